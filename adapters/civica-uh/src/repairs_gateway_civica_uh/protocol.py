"""Facts of the UHWeb wire format shared by the adaptors and the simulator.

The property service is UH's own (its WSDL is public). The repair service's shapes and
every error code below are ASSUMED: no WSDL or code list of it was available, so the
simulator and the adaptors agree on these, and the README says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

NAMESPACE: Final = "http://schemas.civica.co.uk/UHWeb/2013/03"
SOAP11_ENVELOPE_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

Service = Literal["PropertyService", "RepairService"]

WSDL_DIR: Final = Path(__file__).parent / "wsdl"
WSDL_PATHS: Final[dict[Service, Path]] = {
    "PropertyService": WSDL_DIR / "PropertyService.wsdl",
    "RepairService": WSDL_DIR / "RepairService.wsdl",
}

PROPERTY_OPERATIONS: Final = (
    "GetPropertyListByPostCode",
    "GetPropertyByRef",
    "GetPropertyAlerts",
    "GetPropertyAsbestosHazards",
)
REPAIR_OPERATIONS: Final = (
    "CreateRepairWithOrder",
    "GetWorksOrdersByRequest",
    "IssueOrder",
    "CompleteOrder",
    "CancelOrder",
    "GetDiarySlotsByDate",
    "BookDiarySlotByOrder",
    "RebookDiarySlotByOrder",
    "CancelDiaryBookingByOrder",
    "GetDiaryBookingByOrder",
)
OPERATIONS: Final[dict[Service, tuple[str, ...]]] = {
    "PropertyService": PROPERTY_OPERATIONS,
    "RepairService": REPAIR_OPERATIONS,
}


def binding_qname(service: Service) -> str:
    """The WSDL binding of a service, as WCF names it."""
    return f"{{{NAMESPACE}}}BasicHttpBinding_I{service}"


def soap_action(service: Service, operation: str) -> str:
    """The SOAPAction header of an operation (WCF: namespace/I<Service>/<Operation>)."""
    return f"{NAMESPACE}/I{service}/{operation}"


# ASSUMED error codes (WebResponse.ErrorCode with Success false). The adaptors read the
# codes first and fall back on the message's words, so a real installation whose codes
# differ still maps "not found" and "already cancelled" sensibly.
ERR_GENERAL: Final = 1
ERR_AUTHENTICATION: Final = 101
ERR_SOURCE_SYSTEM: Final = 102
ERR_COMPANY: Final = 103
ERR_PROPERTY_NOT_FOUND: Final = 201
ERR_INVALID_REQUEST: Final = 301
ERR_JOB_CODE: Final = 302
ERR_PRIORITY: Final = 303
ERR_ORDER_NOT_FOUND: Final = 401
ERR_ORDER_NOT_CANCELLABLE: Final = 402
ERR_ORDER_ALREADY_CANCELLED: Final = 403
ERR_ORDER_STATE: Final = 404
ERR_SLOT_UNAVAILABLE: Final = 501
ERR_SLOT_NOT_FOUND: Final = 502
ERR_ALREADY_BOOKED: Final = 503
ERR_BOOKING_NOT_FOUND: Final = 504

# ASSUMED diary statuses (DiarySlotDto.StatusType and DiaryBookingDto.StatusType).
SLOT_FREE: Final = "Available"
BOOKING_BOOKED: Final = "Booked"
BOOKING_STARTED: Final = "Started"
BOOKING_COMPLETED: Final = "Completed"
BOOKING_CANCELLED: Final = "Cancelled"

# ASSUMED works order statuses (WorksOrderDto.StatusCode).
ORDER_RAISED: Final = "RAISED"
ORDER_ISSUED: Final = "ISSUED"
ORDER_COMPLETED: Final = "COMPLETED"
ORDER_CANCELLED: Final = "CANCELLED"
