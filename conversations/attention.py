"""Staff taking a conversation over: Lexi's pause, the patient waiting on staff, who handles
it and who has read it. Each change is one UPDATE (or a row the unique constraint keeps
single), never check-then-act.

A conversation needs staff when it is flagged (`needs_attention`, see services.
conversation_flag) or the patient is waiting on staff (`waiting_since`): the inbox lists both.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from conversations.models import Conversation, ConversationRead
from conversations.services import conversation_flag
from conversations.tasks import attention_alert_enqueue


def takeover_until(*, now: datetime | None = None) -> datetime:
    """When a pause started now ends (LEXI_TAKEOVER_HOURS)."""
    return (now or timezone.now()) + timedelta(hours=settings.LEXI_TAKEOVER_HOURS)


def conversation_pause(*, conversation: Conversation, until: datetime | None = None) -> datetime:
    """Leave the patient's texts to staff until `until` (default: LEXI_TAKEOVER_HOURS from now).

    Returns when the pause ends.
    """
    until = until or takeover_until()
    Conversation.objects.filter(pk=conversation.pk).update(
        lexi_paused_until=until, updated_at=timezone.now()
    )
    conversation.lexi_paused_until = until
    return until


def conversation_hand_off(*, conversation: Conversation, reason: str) -> None:
    """Lexi promised the patient a person: flag it for staff and pause her until they answer."""
    conversation_flag(conversation=conversation, reason=reason)
    conversation_pause(conversation=conversation)


def conversation_hand_back(*, conversation: Conversation) -> None:
    """Staff are done: Lexi answers again, and nothing waits on staff any more.

    Her dialogue state starts afresh (see conversation_answered_by_staff).
    """
    Conversation.objects.filter(pk=conversation.pk).update(
        lexi_paused_until=None,
        waiting_since=None,
        needs_attention=False,
        attention_reason="",
        lexi_state={},
        updated_at=timezone.now(),
    )
    conversation.lexi_state = {}
    conversation.lexi_paused_until = None
    conversation.waiting_since = None
    conversation.needs_attention = False
    conversation.attention_reason = ""


def conversation_answered_by_staff(*, conversation: Conversation) -> None:
    """A staff reply went out: the patient no longer waits, and Lexi stays paused a while.

    Lexi's dialogue state is dropped: a question she asked before ("Want me to book it?") is
    not hers to follow up any more, and a "yes" meant for staff must not book anything.
    """
    until = takeover_until()
    Conversation.objects.filter(pk=conversation.pk).update(
        lexi_paused_until=until, waiting_since=None, lexi_state={}, updated_at=timezone.now()
    )
    conversation.lexi_state = {}
    conversation.lexi_paused_until = until
    conversation.waiting_since = None


def conversation_waiting_mark(*, conversation: Conversation, since: datetime) -> bool:
    """The patient texted and only staff will answer: they wait from `since` (the first such
    text). True (and staff are alerted) when the conversation starts waiting now."""
    started = Conversation.objects.filter(pk=conversation.pk, waiting_since__isnull=True).update(
        waiting_since=since
    )
    if started:
        conversation.waiting_since = since
        attention_alert_enqueue(conversation=conversation)
    return bool(started)


def conversation_assign(*, conversation: Conversation, user: Any) -> None:
    """Give the conversation to `user` (None: to nobody)."""
    Conversation.objects.filter(pk=conversation.pk).update(
        assigned_to=user, updated_at=timezone.now()
    )
    conversation.assigned_to = user


def conversation_read_mark(*, conversation: Conversation, user: Any, read: bool = True) -> None:
    """Move `user`'s unread marker: read up to now, or back to unread."""
    if not read:
        ConversationRead.objects.filter(conversation=conversation, user=user).delete()
        return
    ConversationRead.objects.update_or_create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        user=user,
        defaults={"read_at": timezone.now()},
    )


def needs_staff() -> Q:
    """Flagged, or a patient waiting on staff: what the inbox lists."""
    return Q(needs_attention=True) | Q(waiting_since__isnull=False)
