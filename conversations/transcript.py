"""A conversation as staff read it: messages and Lexi's actions in order, in plain words.

Read-only formatting for the staff console. Tool call results come from Lexi's tools
(lexi/tools/); anything unexpected in them is shown as "did X", never trusted as markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from conversations.models import DELIVERY_TROUBLE, Conversation, DeliveryStatus, Message, ToolCall
from sms.errors import delivery_error_text
from tenants.models import Organization

ROLE_LABELS: dict[str, str] = {
    Message.Role.USER: "Patient",
    Message.Role.ASSISTANT: "Lexi",
    Message.Role.STAFF: "Staff",
    Message.Role.SYSTEM: "System",
}

_FAILED = {
    "book_appointment": "Booking failed",
    "reschedule_appointment": "Rescheduling failed",
    "cancel_appointment": "Cancelling failed",
    "register_patient": "Registering the patient failed",
    "find_patient": "Looking up the patient failed",
    "find_slots": "Looking for free slots failed",
    "list_appointments": "Listing appointments failed",
    "get_office_info": "Reading the office information failed",
    "hand_off_to_staff": "Handing off to staff failed",
}


@dataclass(frozen=True)
class TranscriptEntry:
    kind: str  # "message" or "action"
    at: datetime
    time_text: str
    role: str = ""
    who: str = ""
    text: str = ""
    highlight: str = ""  # why staff should look: a fallback, a failure, a hand-off
    delivery: str = ""  # an outbound text's way out: "Delivered", "Failed: ..."
    delivery_failed: bool = False
    summary: str = ""
    failed: bool = False
    arguments_json: str = ""
    result_json: str = ""
    error: str = ""
    duration_ms: int = 0


def transcript_for(*, conversation: Conversation) -> list[TranscriptEntry]:
    """Messages and tool calls of `conversation`, oldest first, times in its clinic's zone."""
    organization = conversation.organization
    entries = [
        _message_entry(message, organization)
        for message in Message.objects.filter(conversation=conversation).order_by("timestamp", "id")
    ]
    entries += [
        _action_entry(tool_call, organization)
        for tool_call in ToolCall.objects.filter(conversation=conversation).order_by(
            "created_at", "id"
        )
    ]
    # Stable sort: at equal times a message stays before the actions it led to.
    return sorted(entries, key=lambda entry: entry.at)


def time_text(value: datetime, organization: Organization) -> str:
    local = timezone.localtime(value, organization.tzinfo)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _message_entry(message: Message, organization: Organization) -> TranscriptEntry:
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    highlight = ""
    if message.fell_back:
        highlight = "Fallback reply: Lexi's engine failed and a safe answer was sent."
    elif metadata.get("flagged"):
        highlight = "Lexi asked the staff to look at this conversation."
    return TranscriptEntry(
        kind="message",
        at=message.timestamp,
        time_text=time_text(message.timestamp, organization),
        role=message.role,
        who=ROLE_LABELS.get(message.role, message.role),
        text=message.content,
        highlight=highlight,
        delivery=delivery_text(message),
        delivery_failed=message.delivery_status in DELIVERY_TROUBLE,
    )


def delivery_text(message: Message) -> str:
    """What became of an outbound text, in words ("" for inline replies and inbound texts)."""
    if not message.delivery_status:
        return ""
    label = str(DeliveryStatus(message.delivery_status).label)
    if message.delivery_status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
        return f"{label}: {delivery_error_text(message.delivery_error_code)}"
    if message.delivery_status == DeliveryStatus.UNKNOWN:
        return f"{label}: Twilio did not answer; it may not have been sent"
    return label


def _action_entry(tool_call: ToolCall, organization: Organization) -> TranscriptEntry:
    failed = bool(tool_call.error)
    return TranscriptEntry(
        kind="action",
        at=tool_call.created_at,
        time_text=time_text(tool_call.created_at, organization),
        summary=tool_call_summary(tool_call, organization=organization),
        failed=failed,
        highlight="Handed off to staff" if tool_call.name == "hand_off_to_staff" else "",
        arguments_json=_pretty(tool_call.arguments),
        result_json=_pretty(tool_call.result),
        error=tool_call.error,
        duration_ms=tool_call.duration_ms,
    )


def tool_call_summary(tool_call: ToolCall, *, organization: Organization) -> str:
    """What Lexi did, e.g. 'Booked Cleaning with Dr. Pearl — Tue 1 Dec, 10:00'."""
    result = tool_call.result if isinstance(tool_call.result, dict) else {}
    arguments = tool_call.arguments if isinstance(tool_call.arguments, dict) else {}
    name = tool_call.name
    if tool_call.error:
        label = _FAILED.get(name, f"{name} failed")
        detail = _text(result.get("message"))
        return f"{label}: {detail or tool_call.error}"
    when = _when(result, organization)
    visit = _visit(result)
    if name == "book_appointment":
        return f"Booked {visit}{when}"
    if name == "reschedule_appointment":
        return f"Rescheduled {visit}{when}"
    if name == "cancel_appointment":
        return f"Cancelled the appointment{when}"
    if name == "register_patient":
        who = " ".join(_text(result.get(k)) for k in ("first_name", "last_name")).strip()
        return f"Registered a new patient: {who}" if who else "Registered a new patient"
    if name == "find_patient":
        return _counted(result.get("patients"), "patient", "on this phone")
    if name == "find_slots":
        kind = _text(result.get("appointment_type"))
        return _counted(result.get("slots"), f"free {kind} slot" if kind else "free slot", "")
    if name == "list_appointments":
        return _counted(result.get("appointments"), "upcoming appointment", "")
    if name == "get_office_info":
        return "Read the office information"
    if name == "hand_off_to_staff":
        reason = _text(arguments.get("reason"))
        return f"Handed off to staff: {reason}" if reason else "Handed off to staff"
    return f"Used {name}"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _visit(result: dict[str, Any]) -> str:
    kind = _text(result.get("appointment_type")) or "an appointment"
    provider = _text(result.get("provider"))
    return f"{kind} with {provider}" if provider else kind


def _when(result: dict[str, Any], organization: Organization) -> str:
    start = _text(result.get("start"))
    if start:
        try:
            parsed = datetime.fromisoformat(start)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return f" — {time_text(parsed, organization)}"
    fallback = _text(result.get("start_text"))
    return f" — {fallback}" if fallback else ""


def _counted(items: Any, noun: str, where: str) -> str:
    count = len(items) if isinstance(items, list) else 0
    plural = noun if count == 1 else f"{noun}s"
    found = f"Found {count} {plural}" if count else f"Found no {plural}"
    return f"{found} {where}".strip()


def _pretty(value: Any) -> str:
    if value in (None, "", {}):
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
