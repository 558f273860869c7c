"""The simulated installation's state and rules: tokens, properties, service requests and
works orders. The HTTP layer (``app``) turns a ``SimError`` into the backend's error shape."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from repairs_gateway.ports import InvalidPostcode, normalise_postcode

from .data import SeedAlert, SeedProperty, SimulatorConfig

Clock = Callable[[], datetime]
MAX_TEXT = 2000
HAZARD_TYPES = frozenset({"CAUTIONARY", "ASBESTOS", "UNCHECKED"})


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class SimError(Exception):
    """A refusal in the backend's own terms: HTTP status, error code, message, reference."""

    def __init__(self, status: int, code: str, message: str, reference: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reference = status, code, message, reference


@dataclass
class WorksOrderRecord:
    """A works order raised under a service request."""

    ref: str
    sr_ref: str
    external: dict[str, str] | None
    body: dict[str, Any]
    status: str = "ISSUED"


@dataclass
class ServiceRequestRecord:
    """A reported repair at a property, and the orders raised under it."""

    ref: str
    property_ref: str
    external: dict[str, str] | None
    body: dict[str, Any]
    status: str = "OPEN"
    orders: list[str] = field(default_factory=list)


def _norm(postcode: str) -> str:
    return "".join(postcode.split()).upper()


class NorthgateState:
    """Everything the simulator holds; tests read and steer it directly."""

    def __init__(self, config: SimulatorConfig, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.properties: dict[str, SeedProperty] = {p.ref: p for p in config.properties}
        self.tokens: dict[str, datetime] = {}
        self.service_requests: dict[str, ServiceRequestRecord] = {}
        self.works_orders: dict[str, WorksOrderRecord] = {}
        self.calls: Counter[str] = Counter()
        self._numbers = {"SR": 40000, "WO": 70000}

    # ------------------------------------------------------------------ tokens

    def issue_token(self, client_id: str, client_secret: str, scope: str | None) -> dict[str, Any]:
        """OAuth 2 client credentials: a bearer token of the configured lifetime."""
        ok_id = secrets.compare_digest(client_id.encode(), self.config.client_id.encode())
        ok_secret = secrets.compare_digest(client_secret.encode(), self.config.client_secret.encode())
        if not (ok_id and ok_secret):
            raise SimError(401, "invalid_client", "Client authentication failed")
        if scope and self.config.scope not in scope.split():
            raise SimError(400, "invalid_scope", f"Scope {scope!r} is not granted to this client")
        token = secrets.token_urlsafe(24)
        lifetime = self.config.token_lifetime_seconds
        self.tokens[token] = self.clock() + timedelta(seconds=lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": self.config.scope}

    def check_token(self, authorization: str | None) -> str:
        """The token a call carries, if it is one we issued and it has not expired."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise SimError(401, "TOKEN_INVALID", "A valid bearer token is required")
        if self.clock() >= self.tokens[token]:
            raise SimError(401, "TOKEN_EXPIRED", "The access token has expired")
        return token

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (a revocation, or a server restart)."""
        now = self.clock()
        self.tokens = {token: now for token in self.tokens}

    # ------------------------------------------------------------------ properties

    def search(self, postcode: str | None, uprn: str | None) -> list[SeedProperty]:
        """Property Search: by postcode prefix (any case and spacing), or by UPRN."""
        if postcode is not None:
            wanted = _norm(postcode)
            if not wanted:
                raise SimError(400, "INVALID_SEARCH", "postcode is empty")
            return [p for p in self.properties.values() if _norm(p.postcode).startswith(wanted)]
        if uprn is not None:
            return [p for p in self.properties.values() if p.uprn == uprn.strip()]
        raise SimError(400, "INVALID_SEARCH", "Give postcode or uprn")

    def property(self, ref: str) -> SeedProperty:
        """One property by its reference."""
        found = self.properties.get(ref)
        if found is None:
            raise SimError(404, "PROPERTY_NOT_FOUND", "No property has this reference", ref)
        return found

    def alerts(self, ref: str) -> tuple[SeedAlert, ...]:
        """The property's cautionary alerts and asbestos records, ended ones included."""
        return self.property(ref).alerts

    # ------------------------------------------------------------------ service requests

    def _next(self, prefix: str) -> str:
        self._numbers[prefix] += 1
        return f"{prefix}{self._numbers[prefix]:08d}"

    def create_service_request(self, body: dict[str, Any]) -> ServiceRequestRecord:
        """Create Service Request."""
        property_ref = _reference_id(body.get("PropertyReference"), "PropertyReference")
        self.property(property_ref)
        _text(body, "Description")
        self._priority(body.get("Priority"))
        if body.get("Channel") not in self.config.channels:
            raise SimError(422, "INVALID_CHANNEL", f"Channel must be one of {sorted(self.config.channels)}")
        reported = body.get("ReportedBy")
        if not isinstance(reported, dict) or not isinstance(reported.get("Name"), str) or not reported["Name"]:
            raise SimError(422, "INVALID_FIELD", "ReportedBy.Name is required")
        record = ServiceRequestRecord(
            self._next("SR"), property_ref, _external(body.get("ExternalReference")), dict(body)
        )
        self.service_requests[record.ref] = record
        return record

    def find_service_requests(self, external_id: str, allocated_by: str | None) -> list[ServiceRequestRecord]:
        """Service requests carrying this external reference."""
        return [
            sr
            for sr in self.service_requests.values()
            if sr.external is not None
            and sr.external["ID"] == external_id
            and (allocated_by is None or sr.external.get("AllocatedBy") == allocated_by)
        ]

    def service_request(self, ref: str) -> ServiceRequestRecord:
        """One service request by its reference."""
        found = self.service_requests.get(ref)
        if found is None:
            raise SimError(404, "SERVICE_REQUEST_NOT_FOUND", "No service request has this reference", ref)
        return found

    def cancel_service_request(self, ref: str) -> ServiceRequestRecord:
        """Cancel a service request that has no live works order."""
        sr = self.service_request(ref)
        if any(self.works_orders[o].status not in ("CANCELLED",) for o in sr.orders):
            raise SimError(409, "SR_HAS_LIVE_ORDERS", "Cancel its works orders first", ref)
        sr.status = "CANCELLED"
        return sr

    # ------------------------------------------------------------------ works orders

    def create_works_order(self, sr_ref: str, body: dict[str, Any]) -> WorksOrderRecord:
        """Create Works Order under an open service request."""
        sr = self.service_request(sr_ref)
        if sr.status != "OPEN":
            raise SimError(409, "SR_CLOSED", f"The service request is {sr.status}", sr_ref)
        sor = body.get("SORCode")
        if not isinstance(sor, str) or not sor.strip() or len(sor) > 20:
            raise SimError(422, "INVALID_SOR_CODE", "SORCode is required (at most 20 characters)")
        self._priority(body.get("Priority"))
        _text(body, "Description")
        minutes = body.get("EstimatedMinutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= 24 * 60:
            raise SimError(422, "INVALID_FIELD", "EstimatedMinutes must be 1 to 1440")
        hazards = body.get("Hazards", [])
        if not isinstance(hazards, list) or not all(
            isinstance(h, dict) and h.get("Type") in HAZARD_TYPES and isinstance(h.get("Code"), str) for h in hazards
        ):
            raise SimError(422, "INVALID_HAZARD", f"Each hazard needs a Code and a Type of {sorted(HAZARD_TYPES)}")
        order = WorksOrderRecord(self._next("WO"), sr_ref, _external(body.get("ExternalReference")), dict(body))
        self.works_orders[order.ref] = order
        sr.orders.append(order.ref)
        return order

    def works_order(self, ref: str) -> WorksOrderRecord:
        """One works order by its reference."""
        found = self.works_orders.get(ref)
        if found is None:
            raise SimError(404, "WORKS_ORDER_NOT_FOUND", "No works order has this reference", ref)
        return found

    def cancel_works_order(self, ref: str) -> WorksOrderRecord:
        """Cancel an order not yet completed; its service request closes with its last order."""
        order = self.works_order(ref)
        if order.status == "CANCELLED":
            raise SimError(409, "WO_ALREADY_CANCELLED", "The works order is already cancelled", ref)
        if order.status == "COMPLETED":
            raise SimError(409, "WO_COMPLETED", "A completed works order cannot be cancelled", ref)
        order.status = "CANCELLED"
        sr = self.service_requests[order.sr_ref]
        if all(self.works_orders[o].status == "CANCELLED" for o in sr.orders):
            sr.status = "CANCELLED"
        return order

    def complete_works_order(self, ref: str) -> WorksOrderRecord:
        """What an operative's visit does (a test control): the order is completed."""
        order = self.works_order(ref)
        order.status = "COMPLETED"
        return order

    def _priority(self, value: Any) -> None:
        if not isinstance(value, str) or value not in self.config.priorities:
            raise SimError(422, "INVALID_PRIORITY", f"Priority must be one of {sorted(self.config.priorities)}")


def _reference_id(value: Any, name: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("ID"), str) or not value["ID"].strip():
        raise SimError(422, "INVALID_FIELD", f"{name}.ID is required")
    return str(value["ID"])


def _external(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    reference = _reference_id(value, "ExternalReference")
    allocated = value.get("AllocatedBy")
    if not isinstance(allocated, str) or not allocated:
        raise SimError(422, "INVALID_FIELD", "ExternalReference.AllocatedBy is required")
    return {"ID": reference, "AllocatedBy": allocated}


def _text(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise SimError(422, "INVALID_FIELD", f"{name} is required (at most {MAX_TEXT} characters)")


def postcode_as_asked(postcode: str) -> str:
    """For ``describe``: the normalised form of a seeded postcode."""
    try:
        return normalise_postcode(postcode)
    except InvalidPostcode:
        return postcode
