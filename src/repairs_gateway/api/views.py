"""Domain objects as API bodies, and the words a resident reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from repairs_gateway.api.schemas import AppointmentOut, HistoryEventOut, JobOut, RepairOut
from repairs_gateway.config.schema import TriageNodeSpec
from repairs_gateway.domain.clock import between
from repairs_gateway.domain.history import describe
from repairs_gateway.domain.repair import public_status
from repairs_gateway.persistence.models import Repair
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.history import HistoryEvent, RepairAnswer

CHANNELS = {"phone": "phone", "sms": "text message", "email": "email"}


def next_steps(row: Repair, council: CouncilRuntime) -> str:
    """What happens next, in plain words."""
    channel = CHANNELS.get(row.preferred_channel, "phone")
    if row.status == "booked" and row.window_start and row.window_end:
        start = row.window_start.astimezone(council.zone)
        end = row.window_end.astimezone(council.zone)
        return (
            f"An operative will visit on {between(start, end)}. "
            f"Keep your reference {row.reference} to check, change or cancel it."
        )
    if row.status == "in_progress":
        return "Work on your repair is under way."
    if row.status == "completed":
        return "Your repair has been completed."
    if row.status == "cancelled":
        return "Your repair has been cancelled. If you still need it, please report it again."
    if row.status == "needs_attention":
        return (
            f"We have recorded your repair as {row.reference} but could not book the time you chose. "
            f"We will contact you by {channel} to arrange another."
        )
    if row.backend_note:
        return (
            f"We have recorded your repair as {row.reference} but could not book an "
            f"appointment just now. We will contact you by {channel} to arrange a time."
        )
    return (
        f"We have recorded your repair as {row.reference}. "
        f"We will contact you by {channel} to arrange a time."
    )


def joined_steps(row: Repair, council: CouncilRuntime, channel: str) -> str:
    """What happens next for a resident whose report joined an open repair."""
    told = CHANNELS.get(channel, "phone")
    words = (
        f"This problem was already reported by another resident, as {row.reference}. "
        f"We have added you to it and will keep you informed by {told}."
    )
    if row.status in ("booked", "in_progress") and row.window_start and row.window_end:
        start = row.window_start.astimezone(council.zone)
        end = row.window_end.astimezone(council.zone)
        words += f" An operative will visit on {between(start, end)}."
    return words


def history_out(events: list[HistoryEvent], council: CouncilRuntime) -> list[HistoryEventOut]:
    """A repair's history as the resident reads it."""
    return [
        HistoryEventOut(
            at=event.at,
            type=event.kind,
            description=describe(event.kind, event.detail, council.zone),
            appointment=_event_appointment(event.detail, council),
        )
        for event in events
    ]


def _event_appointment(detail: dict[str, Any], council: CouncilRuntime) -> AppointmentOut | None:
    if not detail.get("start") or not detail.get("end"):
        return None
    return AppointmentOut(
        start=datetime.fromisoformat(detail["start"]).astimezone(council.zone),
        end=datetime.fromisoformat(detail["end"]).astimezone(council.zone),
        label=str(detail.get("label") or ""),
    )


def repair_out(answer: RepairAnswer, council: CouncilRuntime) -> RepairOut:
    """The API body of a repair, with its history."""
    row = answer.row
    appointment = None
    if row.status in ("booked", "in_progress") and row.window_start and row.window_end:
        appointment = AppointmentOut(
            start=row.window_start.astimezone(council.zone),
            end=row.window_end.astimezone(council.zone),
            label=row.window_label or "",
        )
    return RepairOut(
        reference=row.reference,
        council_id=row.council_id,
        uprn=row.uprn,
        status=public_status(row.status),
        job=JobOut(
            sor_code=row.sor_code,
            trade=row.trade,
            priority=row.priority,
            duration_minutes=row.duration_minutes,
        ),
        triage_path=row.triage_path,
        description=row.description,
        appointment=appointment,
        next_steps=joined_steps(row, council, answer.joined_channel)
        if answer.joined_channel is not None
        else next_steps(row, council),
        history=history_out(answer.history, council),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def triage_out(node: TriageNodeSpec, prefix: str = "") -> dict[str, Any]:
    """The API body of a triage tree."""
    options: list[dict[str, Any]] = []
    for option in node.options:
        path = f"{prefix}/{option.id}" if prefix else option.id
        item: dict[str, Any] = {"id": option.id, "label": option.label}
        if option.next is not None:
            item["next"] = triage_out(option.next, path)
        elif option.job is not None:
            job = option.job
            item["outcome"] = {
                "type": "job",
                "path": path,
                "job": {
                    "sorCode": job.sor_code,
                    "trade": job.trade,
                    "priority": int(job.priority),
                    "durationMinutes": job.duration_minutes,
                },
            }
        elif option.exit is not None:
            item["outcome"] = {
                "type": "exit",
                "path": path,
                "exit": option.exit.kind,
                "message": option.exit.message,
            }
        options.append(item)
    return {"question": node.question, "options": options}
