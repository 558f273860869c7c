"""The published spec, loaded for schemathesis, with the checks configured for this API."""

from __future__ import annotations

from functools import cache
from typing import Any

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from repairs_gateway.spec import spec_document, spec_path

# schemathesis's default statuses for rejected invalid input, plus 413: the spec documents
# it for any body over 16 KiB, and generated invalid bodies can be that large.
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

CHECKS: dict[str, Any] = {
    # Replaced by ``checks.documented_rejections``: this API has rules a schema cannot
    # express, and the spec documents the 400s and 422s they cause.
    "positive_data_acceptance": {"enabled": False},
    # Authentication is checked explicitly, per operation, by the promises part of the suite.
    "ignored_auth": {"enabled": False},
    "negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES},
    # Never a 5xx: not even the documented 503, which no healthy implementation answers.
    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]},
}


def load_schema(base_url: str) -> OpenApiSchema:
    """The spec shipped with this package, aimed at ``base_url``."""
    config = schemathesis.Config.from_dict(
        {
            "checks": CHECKS,
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
