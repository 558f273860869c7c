"""The published spec, loaded for schemathesis, with the checks configured for this API."""

from __future__ import annotations

from functools import cache
from typing import Any

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from repairs_gateway.contract.formats import register_formats
from repairs_gateway.spec import spec_document, spec_path

# schemathesis's default statuses for rejected invalid input, plus 413: the spec documents
# it for any body over 16 KiB, and generated invalid bodies can be that large.
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

# What schema-valid input may be answered besides schemathesis's defaults (2xx, 3xx, 401,
# 403, 404, 409, 429, 5xx; a 5xx is still caught by ``not_a_server_error``): only the
# statuses of rules the spec documents and no schema can express. Per operation:
# - 422 where a value of the right shape may name nothing the council holds or issued (a
#   property, a triage path, SoR code or trade, a window id: its signature and expiry);
# - 413 where a body may exceed the documented 16 KiB.
# No operation may answer 400 to schema-valid input: the spec's patterns now say what the
# gateway checks, the reference's check character has a format the suite generates
# (``formats.py``), and the generation respects the rules between parameters that OpenAPI
# cannot state (one form of the repair, ``from`` within a year, a cursor of this query):
# see ``generation.py``. ``checks.documented_rejections`` still says which fields a 400 or
# 422 for valid input may name.
POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
POSITIVE_EXTRA: dict[str, list[str]] = {
    "listAppointments": ["422"],
    "createRepair": ["413", "422"],
    "rescheduleRepair": ["413", "422"],
}

CHECKS: dict[str, Any] = {
    "positive_data_acceptance": {"enabled": True, "expected-statuses": POSITIVE_DEFAULT},
    "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
    # Never a 5xx: not even the documented 503, which no healthy implementation answers.
    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]},
}


def _operation_checks() -> list[dict[str, Any]]:
    return [
        {
            "include-operation-id": operation,
            "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_DEFAULT, *extra]}},
        }
        for operation, extra in POSITIVE_EXTRA.items()
    ]


def load_schema(base_url: str) -> OpenApiSchema:
    """The spec shipped with this package, aimed at ``base_url``, with every schemathesis
    check enabled."""
    register_formats()
    config = schemathesis.Config.from_dict(
        {
            "checks": CHECKS,
            "operations": _operation_checks(),
            # Reproductions must be runnable: the report replaces API keys itself.
            "output": {"sanitization": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_path(spec_path(), config=config)
    schema.config.update(base_url=base_url)
    return schema


def operation_ids() -> list[str]:
    """Every operationId of the spec, in the order the spec lists them."""
    ids: list[str] = []
    for item in spec_document()["paths"].values():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"} and "operationId" in operation:
                ids.append(operation["operationId"])
    return ids


@cache
def staff_operations() -> frozenset[str]:
    """The operations only a staff key may call: their security requirement names the
    ``staff`` role."""
    found: set[str] = set()
    for item in spec_document()["paths"].values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"} or "operationId" not in operation:
                continue
            if any(
                "staff" in roles
                for requirement in operation.get("security", [])
                for roles in requirement.values()
            ):
                found.add(operation["operationId"])
    return frozenset(found)


def spec_version() -> str:
    """The spec's ``info.version``."""
    return str(spec_document()["info"]["version"])
