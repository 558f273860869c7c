"""The adapter interface: what the gateway asks of a council's back-office systems.

An adapter translates between these types and one backend's wire format. It holds no
retries, no database of its own and no HTTP framework: timeouts, retries of idempotent
calls, metrics and logging are applied by the gateway around every call (see
``repairs_gateway.resilience``).

Four roles, each a small Protocol; an adapter package implements one or more:

* ``AddressSource``: the council's properties (Civica UH, Northgate, the built-in register).
* ``Scheduler``: operatives' diaries (Kirona DRS, Totalmobile, MCM, the built-in calendar).
* ``WorksOrderSink``: a housing management system that must raise a works order before
  a job can be scheduled (Civica UH, Northgate).
* ``Notifier``: sends residents' and staff's messages (GOV.UK Notify, the built-in log).

Adapters are published through the entry-point group ``repairs_gateway.adapters``; each
entry point names an ``AdapterPlugin``.

The package is the bottom layer of the gateway and imports nothing else of it:

* ``types``: the data that crosses the interface (``Address``, ``Job``, ``Slot``, ...);
* ``errors``: the typed errors an adapter raises, and ``PluginError``;
* ``roles``: the Protocols of the four roles and the optional capabilities;
* ``plugin``: ``AdapterPlugin``, the context a factory gets, ``check_roles``, and the
  simulator's options (``SimulatorOptions``, ``read_simulator_settings``);
* ``postcodes``: the UK postcode normaliser every address source needs.

Import from ``repairs_gateway.ports`` itself; the modules are its layout, not its interface.
"""

from repairs_gateway.ports.errors import (
    AdapterError,
    BackendRejected,
    BackendUnavailable,
    NotFound,
    PluginError,
    ReceiptRefused,
    SlotUnavailable,
)
from repairs_gateway.ports.plugin import (
    ENTRY_POINT_GROUP,
    AdapterContext,
    AdapterFactory,
    AdapterPlugin,
    SimulatedBackend,
    SimulatorFactory,
    SimulatorOptions,
    SimulatorSettingError,
    check_roles,
    positive_int,
    read_simulator_settings,
    role_methods,
)
from repairs_gateway.ports.postcodes import InvalidPostcode, normalise_postcode
from repairs_gateway.ports.roles import (
    ROLE_PROTOCOLS,
    AddressSource,
    Closable,
    HazardSource,
    Notifier,
    Preparable,
    PropertyLookup,
    ReceiptReader,
    Role,
    Scheduler,
    SentMessageFinder,
    StatusPushReader,
    WorksOrderCanceller,
    WorksOrderSink,
)
from repairs_gateway.ports.trades import ANY_TRADE, TRADE_KEYED, for_trade
from repairs_gateway.ports.types import (
    Address,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Contact,
    DeliveryReceipt,
    Hazard,
    HazardKind,
    Job,
    MessageChannel,
    OutgoingMessage,
    Priority,
    PropertyKind,
    SentMessage,
    Slot,
    SlotQuery,
    WorksOrderRequest,
    priority_codes,
)

__all__ = [
    "ANY_TRADE",
    "ENTRY_POINT_GROUP",
    "ROLE_PROTOCOLS",
    "TRADE_KEYED",
    "AdapterContext",
    "AdapterError",
    "AdapterFactory",
    "AdapterPlugin",
    "Address",
    "AddressSource",
    "BackendRejected",
    "BackendUnavailable",
    "Booking",
    "BookingRequest",
    "BookingState",
    "BookingStatus",
    "Closable",
    "Contact",
    "DeliveryReceipt",
    "Hazard",
    "HazardKind",
    "HazardSource",
    "InvalidPostcode",
    "Job",
    "MessageChannel",
    "NotFound",
    "Notifier",
    "OutgoingMessage",
    "PluginError",
    "Preparable",
    "Priority",
    "PropertyKind",
    "PropertyLookup",
    "ReceiptReader",
    "ReceiptRefused",
    "Role",
    "Scheduler",
    "SentMessage",
    "SentMessageFinder",
    "SimulatedBackend",
    "SimulatorFactory",
    "SimulatorOptions",
    "SimulatorSettingError",
    "Slot",
    "SlotQuery",
    "SlotUnavailable",
    "StatusPushReader",
    "WorksOrderCanceller",
    "WorksOrderRequest",
    "WorksOrderSink",
    "check_roles",
    "for_trade",
    "normalise_postcode",
    "positive_int",
    "priority_codes",
    "read_simulator_settings",
    "role_methods",
]
