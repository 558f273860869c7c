"""The built-in backends, published through the same entry points as any adaptor."""

from __future__ import annotations

from repairs_gateway.builtin.address_register import RegisterSettings, build_register
from repairs_gateway.builtin.calendar import CalendarSettings, build_calendar
from repairs_gateway.builtin.log_notifier import LogSettings, build_log_notifier
from repairs_gateway.ports import AdapterPlugin

ADDRESS_REGISTER = AdapterPlugin(
    name="builtin-register",
    roles=frozenset({"addresses"}),
    settings=RegisterSettings,
    build=build_register,
    description="Eligible properties kept in the gateway's database, loaded from CSV.",
)

CALENDAR = AdapterPlugin(
    name="builtin-calendar",
    roles=frozenset({"scheduler"}),
    settings=CalendarSettings,
    build=build_calendar,
    description="Appointment windows per weekday with a capacity per trade.",
)

LOG_NOTIFIER = AdapterPlugin(
    name="builtin-log",
    roles=frozenset({"notifications"}),
    settings=LogSettings,
    build=build_log_notifier,
    description="Records in the log the messages that would be sent; sends nothing.",
)
