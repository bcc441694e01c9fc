"""A conversation as staff read it: messages and Lexi's actions in order, in plain words.

Read-only formatting for the staff console. Lexi's registry of tools
(lexi/tools/registry.py) says what each tool call did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from conversations.models import (
    DELIVERY_TROUBLE,
    Conversation,
    DeliveryStatus,
    Message,
    Outcome,
    ToolCall,
)
from lexi.tools.registry import ToolName, tool_summary
from sms.errors import delivery_error_text
from tenants.clock import time_for_staff
from tenants.models import Organization

ROLE_LABELS: dict[str, str] = {
    Message.Role.USER: "Patient",
    Message.Role.ASSISTANT: "Lexi",
    Message.Role.STAFF: "Staff",
    Message.Role.SYSTEM: "System",
}


@dataclass(frozen=True)
class TranscriptEntry:
    kind: str  # "message", "action" (Lexi's) or "event" (a staff action)
    at: datetime
    time_text: str
    role: str = ""
    who: str = ""
    text: str = ""
    highlight: str = ""  # why staff should look: a fallback, a failure, a hand-off
    delivery: str = ""  # an outbound text's way out: "Delivered", "Failed: ..."
    delivery_failed: bool = False
    note: str = ""  # why a patient's text got no answer from Lexi
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
        for message in Message.objects.filter(conversation=conversation)
        .select_related("sent_by")
        .order_by("timestamp", "id")
    ]
    entries += [
        _action_entry(tool_call, organization)
        for tool_call in ToolCall.objects.filter(conversation=conversation).order_by(
            "created_at", "id"
        )
    ]
    entries += _staff_events(conversation, organization)
    # Stable sort: at equal times a message stays before the actions it led to.
    return sorted(entries, key=lambda entry: entry.at)


def _staff_events(conversation: Conversation, organization: Organization) -> list[TranscriptEntry]:
    """What staff did to the conversation (reply, pause, hand back, assign...): who and when."""
    logged = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Conversation),
        object_id=str(conversation.pk),
    ).select_related("user")
    return [
        TranscriptEntry(
            kind="event",
            at=entry.action_time,
            time_text=time_text(entry.action_time, organization),
            who=entry.user.get_username(),
            summary=entry.get_change_message(),
        )
        for entry in logged.order_by("action_time", "id")
    ]


UNANSWERED_NOTES: dict[str, str] = {
    Outcome.PAUSED: "Not answered by Lexi: staff are handling this conversation",
    Outcome.STAFF_ONLY: "Not answered by Lexi: she is turned off for this clinic",
    Outcome.SUPPRESSED: "Not answered: the patient has opted out",
}


def time_text(value: datetime, organization: Organization) -> str:
    return time_for_staff(value, tz=organization.tzinfo)


def _message_entry(message: Message, organization: Organization) -> TranscriptEntry:
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    highlight = ""
    if message.fell_back:
        highlight = "Fallback reply: Lexi's engine failed and a safe answer was sent."
    elif metadata.get("flagged"):
        highlight = "Lexi asked the staff to look at this conversation."
    who = ROLE_LABELS.get(message.role, message.role)
    if message.role == Message.Role.STAFF and message.sent_by is not None:
        who = f"{who} · {message.sent_by.get_username()}"
    return TranscriptEntry(
        kind="message",
        at=message.timestamp,
        time_text=time_text(message.timestamp, organization),
        role=message.role,
        who=who,
        text=message.content,
        highlight=highlight,
        delivery=delivery_text(message),
        delivery_failed=message.delivery_status in DELIVERY_TROUBLE,
        note=_note(message, metadata) if message.role == Message.Role.USER else "",
    )


def _note(message: Message, metadata: dict[str, Any]) -> str:
    """Why a patient's message got no answer from Lexi; for spoken words, how well they were
    recognised."""
    confidence = metadata.get("confidence")
    if not isinstance(confidence, int | float):
        return UNANSWERED_NOTES.get(message.outcome, "")
    heard = f"Spoken, recognised with {confidence:.0%} confidence"
    if message.outcome == Outcome.UNCLEAR:
        return f"{heard}: too unsure to act on, Lexi asked again"
    if message.outcome == Outcome.STAFF_ONLY:
        return f"{heard}: a message for staff"
    return heard


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
        summary=tool_summary(
            name=tool_call.name,
            arguments=tool_call.arguments,
            result=tool_call.result,
            error=tool_call.error,
            tz=organization.tzinfo,
        ),
        failed=failed,
        highlight="Handed off to staff" if tool_call.name == ToolName.HAND_OFF_TO_STAFF else "",
        arguments_json=_pretty(tool_call.arguments),
        result_json=_pretty(tool_call.result),
        error=tool_call.error,
        duration_ms=tool_call.duration_ms,
    )


def _pretty(value: Any) -> str:
    if value in (None, "", {}):
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
