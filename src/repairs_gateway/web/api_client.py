"""The Repairs API as the resident site calls it: one method per operation, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx


@dataclass(frozen=True)
class FieldProblem:
    """One of a problem document's ``errors``: the API's field name and its message."""

    field: str
    message: str


@dataclass
class ApiProblem(Exception):
    """An answer that is an RFC 9457 problem document (or a non-2xx answer read as one)."""

    status: int
    type: str = ""
    detail: str = ""
    errors: list[FieldProblem] = field(default_factory=list)
    existing_reference: str | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.detail}"


class ApiUnreachable(Exception):
    """The gateway did not answer (connection refused, timed out)."""


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = [
        FieldProblem(str(error.get("field", "")), str(error.get("message", "")))
        for error in body.get("errors") or []
        if isinstance(error, dict)
    ]
    return ApiProblem(
        status=response.status_code,
        type=str(body.get("type", "")),
        detail=str(body.get("detail", "")),
        errors=errors,
        existing_reference=body.get("existingReference"),
    )


class RepairsApi:
    """One council's operations of the Repairs API, called with the site's API key."""

    def __init__(self, client: httpx.AsyncClient, council: str, api_key: str) -> None:
        self._client = client
        self._base = f"/v1/councils/{quote(council, safe='')}"
        self._council = council
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        try:
            response = await self._client.request(
                method, path, params=params, json=json, headers={**self._headers, **(headers or {})}
            )
        except httpx.TransportError as exc:
            raise ApiUnreachable(type(exc).__name__) from exc
        if response.status_code >= 400:
            raise _problem(response)
        try:
            body = response.json()
        except ValueError:  # a proxy's HTML page, say: not the API's answer
            body = None
        if not isinstance(body, dict):
            raise ApiProblem(status=502, detail="The gateway's answer was not a JSON object.")
        return response.status_code, body

    async def council_name(self) -> str:
        """The council's display name (listCouncils), or its id when the key does not list it."""
        _, body = await self._call("GET", "/v1/councils")
        for council in body.get("councils", []):
            if council.get("id") == self._council:
                return str(council.get("name") or self._council)
        return self._council

    async def addresses(self, postcode: str) -> dict[str, Any]:
        """listAddresses: the council's properties at ``postcode``."""
        return (await self._call("GET", f"{self._base}/addresses", params={"postcode": postcode}))[1]

    async def triage(self) -> dict[str, Any]:
        """getTriage: the council's whole question tree."""
        return (await self._call("GET", f"{self._base}/triage"))[1]

    async def appointments(
        self, uprn: str, repair: dict[str, str], cursor: str | None = None
    ) -> dict[str, Any]:
        """listAppointments: a page of free windows for ``repair`` (one of the spec's three
        forms, as query parameters) at ``uprn``, from ``cursor`` when given."""
        params = {"uprn": uprn, **repair}
        if cursor:
            params["cursor"] = cursor
        return (await self._call("GET", f"{self._base}/appointments", params=params))[1]

    async def create_repair(self, body: dict[str, Any], idempotency_key: str) -> tuple[int, dict[str, Any]]:
        """createRepair: the status (201 recorded, 200 joined an open repair) and the repair."""
        return await self._call(
            "POST", f"{self._base}/repairs", json=body, headers={"Idempotency-Key": idempotency_key}
        )

    async def repair(self, reference: str) -> dict[str, Any]:
        """getRepair."""
        return (await self._call("GET", f"{self._base}/repairs/{quote(reference, safe='')}"))[1]

    async def cancel(self, reference: str) -> dict[str, Any]:
        """cancelRepair."""
        return (await self._call("POST", f"{self._base}/repairs/{quote(reference, safe='')}/cancel"))[1]

    async def reschedule(self, reference: str, window_id: str) -> dict[str, Any]:
        """rescheduleRepair to ``window_id``."""
        path = f"{self._base}/repairs/{quote(reference, safe='')}/reschedule"
        return (await self._call("POST", path, json={"windowId": window_id}))[1]


def repair_form(repair: dict[str, Any]) -> dict[str, str]:
    """How to name a stored repair's job in listAppointments: its triage path, else its SoR
    code, else its trade and duration (the spec's three forms)."""
    if repair.get("triagePath"):
        return {"triagePath": str(repair["triagePath"])}
    job = repair.get("job") or {}
    if job.get("sorCode"):
        return {"sorCode": str(job["sorCode"])}
    return {"trade": str(job.get("trade", "")), "durationMinutes": str(job.get("durationMinutes", ""))}
