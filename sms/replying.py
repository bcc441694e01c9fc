"""The queued reply mode's worker side: one turn for a burst of texts, sent in order.

The webhook stores each text as QUEUED and enqueues `sms_reply` for the conversation. The
task waits for a quiet gap (LEXI_REPLY_DEBOUNCE_SECONDS) after the newest waiting text, so
"hi" / "i need a cleaning" / "tmrw morning?" get one answer that saw all three. A lease on
the conversation row (`turn_lease_until`) lets one worker at a time answer it; a text that
arrives during a turn is answered by the next loop of the same worker, or by a later task.
Replies go out before the lease is released, so they are never sent out of order.
"""

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from conversations.language import ENGLISH
from conversations.models import Conversation, DeliveryStatus, Message, Outcome
from frontdesk.pause import lexi_paused, paused_text_keep
from frontdesk.storing import reply_store
from frontdesk.turns import fallback_answer, lexi_answer
from lexi.engines import engine_for
from sms.delivery import message_deliver
from tenants.models import Organization
from tenants.scoping import scope_required

logger = logging.getLogger(__name__)

BUSY_RETRY = timedelta(seconds=1)


@dataclass(frozen=True)
class ReplyRun:
    """What a reply task did: how many replies it sent, and when to look again (if ever)."""

    replies: int
    retry_at: datetime | None = None


def texts_awaiting_reply(*, conversation_id: int) -> list[Message]:
    """The conversation's texts queued for Lexi and not answered yet, oldest first."""
    return list(
        Message.objects.filter(
            conversation_id=conversation_id, role=Message.Role.USER, outcome=Outcome.QUEUED
        ).order_by("timestamp", "id")
    )


def conversation_reply_due(
    *, organization: Organization, conversation_id: int, debounce: timedelta
) -> ReplyRun:
    """Answer the conversation's waiting texts once they have gone quiet for `debounce`.

    Returns when to run again: the quiet gap has not passed yet, or another worker holds the
    conversation. Safe to run twice: with nothing waiting it does nothing.
    """
    scope_required(organization)
    replies = 0
    while True:
        waiting = texts_awaiting_reply(conversation_id=conversation_id)
        if not waiting:
            return ReplyRun(replies)
        quiet_at = waiting[-1].timestamp + debounce
        if timezone.now() < quiet_at:
            return ReplyRun(replies, retry_at=quiet_at)
        if not _lease_take(conversation_id=conversation_id):
            return ReplyRun(replies, retry_at=timezone.now() + BUSY_RETRY)
        try:
            # Re-read under the lease: another worker may have answered them meanwhile.
            waiting = texts_awaiting_reply(conversation_id=conversation_id)
            if waiting and _paused_texts_keep(conversation_id=conversation_id, waiting=waiting):
                return ReplyRun(replies)
            if waiting:
                reply = _burst_answer(organization=organization, waiting=waiting)
                if reply is None:  # nothing could be stored: the sweep tries again later
                    return ReplyRun(replies)
                message_deliver(organization=organization, message_id=reply.pk)
                replies += 1
        finally:
            _lease_release(conversation_id=conversation_id)


def conversations_awaiting_reply(*, quiet_since: datetime) -> list[tuple[str, int]]:
    """(organization id, conversation id) with queued texts older than `quiet_since` and no
    worker on them: their task was lost (a worker killed mid-turn, a broker restart)."""
    now = timezone.now()
    rows = (
        Message.objects.filter(
            role=Message.Role.USER, outcome=Outcome.QUEUED, timestamp__lt=quiet_since
        )
        .filter(
            Q(conversation__turn_lease_until__isnull=True)
            | Q(conversation__turn_lease_until__lt=now)
        )
        .values_list("organization_id", "conversation_id")
        .distinct()
    )
    return [(str(org), conversation) for org, conversation in rows]


def _burst_answer(*, organization: Organization, waiting: list[Message]) -> Message | None:
    """One Lexi turn answering every text in `waiting`; the reply is stored QUEUED to send."""
    conversation = Conversation.objects.get(pk=waiting[-1].conversation_id)
    conversation.organization = organization
    # Lexi's own words (the loop hand-off, the fallback) in the conversation's language.
    with translation.override((conversation.metadata or {}).get("language") or ENGLISH):
        return _burst_turn(organization=organization, conversation=conversation, waiting=waiting)


def _burst_turn(
    *, organization: Organization, conversation: Conversation, waiting: list[Message]
) -> Message | None:
    last = waiting[-1]
    engine = engine_for(organization)
    if len(waiting) > 1 and not engine.uses_history:
        # An engine without history reads the burst as the one text it is.
        last.content = "\n".join(m.content for m in waiting)
    # A model's turn runs outside a transaction: no row stays locked while it thinks, so the
    # webhook keeps storing this patient's texts at once.
    in_transaction = transaction.atomic() if engine.answers_in_transaction else nullcontext()
    try:
        with in_transaction:
            answer = lexi_answer(
                organization=organization,
                conversation=conversation,
                message=last,
                channel="sms",
                engine=engine,
            )
            return reply_store(
                conversation=conversation,
                message=last,
                outcome=Outcome.ANSWERED,
                text=answer.text,
                metadata={**answer.metadata, "burst": len(waiting)},
                fell_back=answer.fell_back,
                delivery_status=DeliveryStatus.QUEUED,
                answered=waiting[:-1],
            )
    except Exception as exc:  # any failure must become a polite text
        return fallback_answer(
            organization=organization,
            conversation=conversation,
            message=last,
            error=exc,
            delivery_status=DeliveryStatus.QUEUED,
            answered=waiting[:-1],
        )


def _paused_texts_keep(*, conversation_id: int, waiting: list[Message]) -> bool:
    """Staff took the conversation over after these texts were queued: leave them to staff.

    Returns whether it did (the conversation is paused).
    """
    conversation = Conversation.objects.get(pk=conversation_id)
    if not lexi_paused(conversation=conversation):
        return False
    with transaction.atomic():
        paused_text_keep(conversation=conversation, message=waiting[0])
        Message.objects.filter(pk__in=[m.pk for m in waiting], outcome=Outcome.QUEUED).update(
            outcome=Outcome.PAUSED
        )
    return True


def _lease_take(*, conversation_id: int) -> bool:
    now = timezone.now()
    until = now + timedelta(seconds=settings.LEXI_TURN_LEASE_SECONDS)
    return bool(
        Conversation.objects.filter(pk=conversation_id)
        .filter(Q(turn_lease_until__isnull=True) | Q(turn_lease_until__lt=now))
        .update(turn_lease_until=until)
    )


def _lease_release(*, conversation_id: int) -> None:
    Conversation.objects.filter(pk=conversation_id).update(turn_lease_until=None)
