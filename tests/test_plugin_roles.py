"""What a plugin builds must implement every role it declares: the check names the plugin,
the role and each missing method, so a supplier knows what to write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from repairs_gateway.config.loader import BoundAdapter
from repairs_gateway.ports import (
    ROLE_PROTOCOLS,
    AdapterContext,
    AdapterPlugin,
    Address,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Job,
    PluginError,
    Slot,
    SlotQuery,
    check_roles,
    role_methods,
)
from repairs_gateway.registry import build_adapter, discover_plugins


class NoSettings(BaseModel):
    pass


class HalfAScheduler:
    """Offers windows but cannot book them."""

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        return []

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        return booking

    async def cancel(self, booking: Booking) -> None:
        return None

    async def status(self, booking: Booking) -> BookingState:
        return BookingState(BookingStatus.BOOKED)


class WholeScheduler(HalfAScheduler):
    async def book(self, request: BookingRequest) -> Booking:
        return Booking(request.reference)


class Addresses:
    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        return []

    async def address(self, uprn: str) -> Address | None:
        return None


def plugin(name: str, roles: set[Any], built: object) -> AdapterPlugin:
    return AdapterPlugin(name, frozenset(roles), NoSettings, lambda settings, context: built)


CONTEXT = AdapterContext("northfield")


def test_a_scheduler_without_book_is_refused_naming_the_plugin_and_book() -> None:
    broken = plugin("half-drs", {"scheduler"}, HalfAScheduler())
    with pytest.raises(PluginError) as caught:
        build_adapter(broken, NoSettings(), CONTEXT)
    message = str(caught.value)
    assert "'half-drs'" in message
    assert "book" in message
    assert "Scheduler" in message
    for present in ("slots", "reschedule", "cancel", "status"):
        assert present not in message.split("needs", 1)[1]


def test_every_missing_method_of_every_declared_role_is_named() -> None:
    broken = plugin("empty", {"addresses", "scheduler", "works_orders"}, object())
    with pytest.raises(PluginError) as caught:
        check_roles(broken, object())
    message = str(caught.value)
    for role in ("addresses", "scheduler", "works_orders"):
        for method in role_methods(role):
            assert method in message, (role, method, message)


def test_an_attribute_that_is_not_callable_does_not_count_as_a_method() -> None:
    class BookIsAFlag(HalfAScheduler):
        book = True

    with pytest.raises(PluginError, match="book"):
        check_roles(plugin("flag", {"scheduler"}, None), BookIsAFlag())


def test_a_complete_adapter_is_built_and_returned() -> None:
    scheduler = WholeScheduler()
    assert build_adapter(plugin("whole", {"scheduler"}, scheduler), NoSettings(), CONTEXT) is scheduler
    both = type("Both", (WholeScheduler, Addresses), {})()
    check_roles(plugin("both", {"scheduler", "addresses"}, None), both)


def test_only_the_declared_roles_are_checked() -> None:
    check_roles(plugin("addresses-only", {"addresses"}, None), Addresses())


def test_a_bound_adapter_builds_through_the_check() -> None:
    broken = plugin("half-drs", {"scheduler"}, HalfAScheduler())
    with pytest.raises(PluginError, match=r"'half-drs'.*book"):
        BoundAdapter(broken, NoSettings()).build(CONTEXT)


def test_the_methods_checked_are_those_of_the_runtime_checkable_protocols() -> None:
    assert role_methods("scheduler") == ("slots", "book", "reschedule", "cancel", "status")
    assert role_methods("addresses") == ("addresses_at", "address")
    assert role_methods("works_orders") == ("raise_order",)
    assert isinstance(WholeScheduler(), ROLE_PROTOCOLS["scheduler"])
    assert not isinstance(HalfAScheduler(), ROLE_PROTOCOLS["scheduler"])


def test_the_installed_plugins_declare_only_roles_the_check_knows() -> None:
    for found in discover_plugins().values():
        assert found.roles <= set(ROLE_PROTOCOLS), found.name
