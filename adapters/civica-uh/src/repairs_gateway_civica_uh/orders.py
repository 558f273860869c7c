"""Works orders in UH: ``CreateRepairWithOrder`` with one task per job, and
``CancelOrder``. (The repair service's shapes are ASSUMED; see the README.)"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from repairs_gateway.ports import (
    BackendRejected,
    NotFound,
    WorksOrderRequest,
)

from .client import UNREADABLE, UhClient, UnreadableAnswer
from .errors import is_already_cancelled, is_order_not_found, is_property_not_found
from .settings import UhHousingSettings
from .text import hazard_notes, xml_safe

NO_PROPERTY = "The housing system does not know this property."
NO_JOB_CODE = "This repair has no SoR code, which the housing system needs to raise an order."
NO_REF = "This address has no housing system property reference."
RAISE_REFUSED = "The housing system would not raise a works order for this repair."
NO_ORDER = "The housing system holds no such works order."
CANCEL_REFUSED = "The housing system would not cancel works order {ref}: {why}"
CANCEL_REASON = "Cancelled through the online repairs service."


class WorksOrders:
    """Raising and cancelling works orders through UH's repair service."""

    def __init__(self, settings: UhHousingSettings, client: UhClient) -> None:
        self._settings = settings
        self._client = client

    async def raise_order(self, request: WorksOrderRequest, property_ref: str | None) -> str:
        """One repair request with one task (the job's SoR code); answers UH's
        ``OrderReference``. Hazards go into the task's text, which operatives read."""
        if not property_ref:
            raise BackendRejected(
                NO_REF, detail=f"{request.reference}: uprn {request.address.uprn}"
            )
        sor = request.job.sor_code
        if not sor:
            raise BackendRejected(NO_JOB_CODE, detail=f"{request.reference}: {request.job}")
        s = self._settings
        priority = s.priorities[request.job.priority]
        task_text = "\n\n".join(
            part for part in (request.description, hazard_notes(request.hazards)) if part
        )
        reply = await self._client.call(
            "CreateRepairWithOrder",
            RepairRequest={
                "Name": xml_safe(request.contact.name),
                "Phone": xml_safe(request.contact.phone or ""),
                "Priority": priority,
                # The gateway's reference leads, so staff in UH can find the repair.
                "Problem": xml_safe(f"{request.reference}: {request.description}"),
                "PropertyRef": property_ref,
            },
            TaskList={
                "RepairTaskInfo": [
                    {
                        # Written as UH would show it: 2, not 2.0.
                        "EstimatedUnits": Decimal(format(s.estimated_units.get(sor, 1), "g")),
                        "JobCode": sor,
                        "PriorityCode": priority,
                        "PropertyReference": property_ref,
                        "SupplierReference": s.suppliers.get(sor, s.default_supplier),
                        "TaskText": xml_safe(task_text),
                    }
                ]
            },
        )
        if not reply.success:
            if is_property_not_found(reply):
                raise NotFound(NO_PROPERTY, detail=reply.describe())
            raise BackendRejected(RAISE_REFUSED, detail=reply.describe())
        holder = reply.body.get("WorksOrderList") or {}
        orders = holder.get("WorksOrderDto") if isinstance(holder, Mapping) else None
        for order in orders or []:
            ref = str(order.get("OrderReference") or "").strip()
            if ref:
                return ref
        # UH said yes but named no order: it may have raised one all the same.
        raise UnreadableAnswer(UNREADABLE, detail="CreateRepairWithOrder: no OrderReference")

    async def cancel_order(self, works_order_ref: str) -> None:
        """Cancel the order; an order cancelled before is not an error."""
        reply = await self._client.call(
            "CancelOrder", OrderReference=works_order_ref, Reason=CANCEL_REASON
        )
        if reply.success or is_already_cancelled(reply):
            return
        if is_order_not_found(reply):
            raise NotFound(NO_ORDER, detail=reply.describe())
        why = reply.message or f"error {reply.code}"
        raise BackendRejected(
            CANCEL_REFUSED.format(ref=works_order_ref, why=why), detail=reply.describe()
        )
