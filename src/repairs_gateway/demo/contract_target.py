"""The contract target of the built-in backends: the demo councils (Northfield and Southmoor)
on the built-in address register and calendar, with the demo addresses.

It lives with the demo, whose data it is, so that the contract suite's package imports
nothing of the demo; it joins the suite through the ``repairs_gateway.contract_targets``
entry point ``builtin``."""

from __future__ import annotations

import csv
import io

from repairs_gateway.contract.targets import ContractTarget, TargetEnvironment, static_target
from repairs_gateway.demo.data import demo_addresses, demo_document


def _postcodes(csv_text: str) -> list[str]:
    seen: list[str] = []
    for row in csv.DictReader(io.StringIO(csv_text)):
        postcode = row.get("postcode", "").strip()
        if postcode and postcode not in seen:
            seen.append(postcode)
    return seen


def builtin_environment() -> TargetEnvironment:
    """The demo councils file, its address CSVs and the postcodes in them."""
    councils = demo_document()
    addresses = demo_addresses(council["id"] for council in councils["councils"])
    return TargetEnvironment(
        councils=councils,
        postcodes={council: _postcodes(text) for council, text in addresses.items()},
        addresses=addresses,
        council="northfield",
        other_council="southmoor",
    )


TARGET: ContractTarget = static_target(
    "builtin",
    builtin_environment(),
    "The demo councils on the built-in address register and calendar.",
)
