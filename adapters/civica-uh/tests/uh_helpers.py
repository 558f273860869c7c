"""Shared by the UH tests: the simulator's seeded facts, settings for the adaptors, and
hand-written SOAP requests for testing the simulator at the wire."""

from __future__ import annotations

from typing import Any

import httpx
from lxml import etree
from pydantic import SecretStr

from repairs_gateway_civica_uh import UhDiarySettings, UhHousingSettings
from repairs_gateway_civica_uh.protocol import NAMESPACE, SOAP11_ENVELOPE_NS, soap_action

BASE_URL = "http://uh.test/UHWebServices"
USER = "REPAIRSGW"
PASSWORD = "uh-sim-password"

# The eligible properties the default simulator holds, by postcode (UPRNs).
KNOWN_POSTCODES: dict[str, list[str]] = {
    "UH1 1AA": ["400078000100", "400078000101", "400078000102"],
    "UH1 1AB": ["400078000201", "400078000203"],  # one stored as "uh11ab"
    "UH1 2BH": ["400078000300", *[f"4000780003{n:02d}" for n in range(1, 17)]],
    "UH2 3CD": ["400078000401"],  # stored as "UH2  3CD"
}
HAZARD_REF = "00042003"  # 3 Willow Road: two alerts and an asbestos hazard


def housing_settings(**changes: Any) -> UhHousingSettings:
    """Settings of the ``civica-uh`` adaptor for the simulator's installation."""
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "username": USER,
        "password": SecretStr(PASSWORD),
        "default_supplier": "LBC-DLO",
        "suppliers": {"20060020": "VALEPLUMB", "20300050": "SPARKS01"},
        "estimated_units": {"20060040": 2},
        "timeout_seconds": 2,
    }
    values.update(changes)
    return UhHousingSettings.model_validate(values)


def diary_settings(**changes: Any) -> UhDiarySettings:
    """Settings of the ``civica-uh-diary`` scheduler for the simulator's installation."""
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "username": USER,
        "password": SecretStr(PASSWORD),
        "timeout_seconds": 2,
    }
    values.update(changes)
    return UhDiarySettings.model_validate(values)


def credentials(user: str = USER, password: str = PASSWORD, source: str | None = "TESTS") -> str:
    """The WebRequest fields, in their order, as a client would write them."""
    source_xml = f"<u:SourceSystem>{source}</u:SourceSystem>" if source is not None else ""
    return (
        "<u:CompanyCode>001</u:CompanyCode>"
        f"<u:DirectUser><u:UserName>{user}</u:UserName>"
        f"<u:UserPassword>{password}</u:UserPassword></u:DirectUser>"
        f"{source_xml}<u:UserId>0</u:UserId>"
    )


def envelope(operation: str, dto_fields: str) -> bytes:
    """A SOAP 1.1 request ``<u:Operation><u:dto>fields</u:dto></u:Operation>``."""
    return (
        f'<s:Envelope xmlns:s="{SOAP11_ENVELOPE_NS}" xmlns:u="{NAMESPACE}"><s:Body>'
        f"<u:{operation}><u:dto>{dto_fields}</u:dto></u:{operation}>"
        "</s:Body></s:Envelope>"
    ).encode()


async def post(
    http: httpx.AsyncClient,
    service: str,
    operation: str,
    dto_fields: str,
    *,
    action: str | None = None,
) -> tuple[int, etree._Element]:
    """POST a hand-written request; answers the HTTP status and the parsed envelope."""
    response = await http.post(
        f"{BASE_URL}/{service}.svc",
        content=envelope(operation, dto_fields),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{action if action is not None else soap_action(service, operation)}"',  # type: ignore[arg-type]
        },
    )
    return response.status_code, etree.fromstring(response.content)


def result(root: etree._Element, operation: str) -> dict[str, str]:
    """The simple fields of ``<OperationResult>`` by local name."""
    node = root.find(f".//{{{NAMESPACE}}}{operation}Result")
    assert node is not None, etree.tostring(root)
    return {etree.QName(child).localname: child.text or "" for child in node}


def fault_string(root: etree._Element) -> str | None:
    """The faultstring of a SOAP Fault, if the envelope holds one."""
    found: str | None = root.findtext(f".//{{{SOAP11_ENVELOPE_NS}}}Fault/faultstring")
    return found


class FakeMonotonic:
    """A monotonic clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
