"""The inbox staff land on: conversations that need a person, the longest-waiting first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from console.scoping import request_organizations
from conversations.alerts import WAITING_REASON
from conversations.attention import needs_staff
from conversations.models import Conversation
from conversations.selectors import conversations_with_unread
from frontdesk.pause import lexi_paused

INBOX_LIMIT = 50


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    reason: str
    waited: str
    waiting_since: datetime | None
    paused: bool
    unread: bool


def inbox_rows(*, user: Any, now: datetime, limit: int = INBOX_LIMIT) -> list[InboxRow]:
    """Flagged or waiting conversations in the current scope, oldest wait first."""
    queryset = (
        Conversation.objects.filter(needs_staff())
        .select_related("organization", "assigned_to")
        .order_by(F("waiting_since").asc(nulls_last=True), "last_message_at", "pk")
    )
    rows = conversations_with_unread(queryset=queryset, user=user)[:limit]
    return [
        InboxRow(
            conversation=c,
            reason=c.attention_reason or WAITING_REASON,
            waited=waited_text(c.waiting_since, now=now) if c.waiting_since else "—",
            waiting_since=c.waiting_since,
            paused=lexi_paused(conversation=c, now=now),
            unread=c.unread,
        )
        for c in rows
    ]


def waited_text(since: datetime, *, now: datetime) -> str:
    """'12 min', '3 h 05 min', '2 days' — how long the patient has waited."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


def inbox_context(request: HttpRequest) -> dict[str, Any]:
    """What the console's landing page needs to show the inbox (inside the admin's scope)."""
    if not request.user.has_perm("conversations.view_conversation"):
        return {"inbox_shown": False}
    return {
        "inbox_shown": True,
        "inbox": inbox_rows(user=request.user, now=timezone.now()),
        "lexi_several_clinics": len(request_organizations(request)) > 1,
    }
