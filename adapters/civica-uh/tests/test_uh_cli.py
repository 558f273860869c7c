"""`repairs-gateway simulate civica-uh` serves the simulator and says how to reach it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx

from uh_helpers import credentials, envelope


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulate_prints_the_services_credentials_and_postcodes() -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "repairs_gateway.cli",
        "simulate",
        "civica-uh",
        "--port",
        str(port),
        "--latency-ms",
        "5",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if match := re.match(r"\s*(PropertyService|username|password|latency):\s+(\S+)", line):
                printed[match.group(1)] = match.group(2)
            if "latency" in printed:
                break
        text = "".join(lines)
        endpoint = printed["PropertyService"]
        assert endpoint == f"http://127.0.0.1:{port}/UHWebServices/PropertyService.svc"
        assert "UH1 1AA" in text and "UH1 1AB" in text and "ASSUMED" in text
        for _ in range(100):
            try:
                wsdl = httpx.get(f"{endpoint}?wsdl", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert wsdl.status_code == 200 and "GetPropertyListByPostCode" in wsdl.text
        answer = httpx.post(
            endpoint,
            content=envelope(
                "GetPropertyListByPostCode",
                credentials(printed["username"], printed["password"])
                + "<u:PostCode>UH1 1AB</u:PostCode>",
            ),
            timeout=5,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"http://schemas.civica.co.uk/UHWeb/2013/03/IPropertyService/'
                'GetPropertyListByPostCode"',
            },
        )
        assert answer.status_code == 200, answer.text
        assert "<Success>true</Success>" in answer.text and "3 Willow Road" in answer.text
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
