"""Decide how to answer a stored inbound text, and store that answer.

The rules, first match wins: STOP words opt the phone out; START words (and YES from an
opted-out phone) opt it back in; an opted-out phone is not answered; a sender over the flood
limit is told to slow down once per window; HELP gets the help text; a clinic with Lexi off
gets a flag for staff; a picture alone gets the media text; anything else is Lexi's turn.
"""

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.selectors import messages_count_since
from conversations.services import conversation_flag
from lexi.agent import run_turn
from sms.inbound import InboundSms
from sms.outcomes import Outcome, SmsResult, SmsUnavailable
from sms.replies import (
    HELP_WORDS,
    OPT_IN_IF_OPTED_OUT,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    SLOW_DOWN_TEXT,
    fallback_text,
    help_text,
    media_text,
    reply_text_limit,
    sms_keyword,
)
from sms.selectors import sender_standing
from sms.steplog import ms_since, step_log
from sms.storing import fallback_store, opt_out_record, reply_store
from tenants.models import Organization

logger = logging.getLogger(__name__)

FLOOD_WINDOW = timedelta(seconds=60)
LEXI_OFF_REASON = "Lexi is turned off for this clinic: a person needs to reply."
PICTURE_REASON = "The patient sent a picture."


def inbound_answer(
    *,
    organization: Organization,
    conversation: Conversation,
    message: Message,
    inbound: InboundSms,
) -> SmsResult:
    """Answer a stored inbound text by the rules above and store the answer on it."""
    keyword = sms_keyword(inbound.body)
    phone = inbound.from_number
    text: str | None = None
    extra: dict[str, Any] = {}
    if keyword in OPT_OUT_WORDS:
        opt_out_record(organization=organization, phone=phone, opted_out=True, keyword=keyword)
        return _reply_stored(conversation=conversation, message=message, outcome=Outcome.OPTED_OUT)
    standing = sender_standing(
        organization=organization,
        conversation=conversation,
        phone=phone,
        since=timezone.now() - FLOOD_WINDOW,
    )
    limit = settings.LEXI_SENDER_LIMIT_PER_MINUTE
    if keyword in OPT_IN_WORDS or (keyword in OPT_IN_IF_OPTED_OUT and standing.opted_out):
        # Twilio's own opt-in confirmation answers these; Lexi stays quiet.
        opt_out_record(organization=organization, phone=phone, opted_out=False, keyword=keyword)
        outcome = Outcome.OPTED_IN
    elif standing.opted_out:
        outcome = Outcome.SUPPRESSED
    elif limit > 0 and standing.recent_texts > limit:
        return _slow_down(conversation=conversation, message=message)
    elif keyword in HELP_WORDS:
        outcome, text = Outcome.HELP, help_text(organization)
    elif not organization.lexi_enabled:
        conversation_flag(conversation=conversation, reason=LEXI_OFF_REASON)
        outcome = Outcome.STAFF_ONLY
    elif not inbound.body.strip() and inbound.media:
        conversation_flag(conversation=conversation, reason=PICTURE_REASON)
        outcome, text = Outcome.MEDIA, media_text(organization)
    else:
        if inbound.media:
            conversation_flag(conversation=conversation, reason=PICTURE_REASON)
        outcome = Outcome.ANSWERED
        text, extra = _lexi_turn(
            organization=organization, conversation=conversation, message=message
        )
    return _reply_stored(
        conversation=conversation, message=message, outcome=outcome, text=text, extra=extra
    )


def _lexi_turn(
    *, organization: Organization, conversation: Conversation, message: Message
) -> tuple[str, dict[str, Any]]:
    """Lexi's reply, cut to fit an SMS, and what to store with it; an empty reply raises."""
    started = time.monotonic()
    reply = run_turn(conversation=conversation, message=message)
    text = reply_text_limit(reply.text)
    if not text:
        raise ValueError("Lexi's turn produced an empty reply")
    step_log(
        "turn",
        organization,
        conversation=conversation.pk,
        engine=reply.engine,
        fell_back=reply.fell_back,
        flagged=reply.flagged,
        tool_calls=reply.tool_calls,
        duration_ms=ms_since(started),
    )
    return text, {
        "engine": reply.engine,
        "fell_back": reply.fell_back,
        "flagged": reply.flagged,
        "usage": reply.usage,
        "tool_calls": reply.tool_calls,
    }


def _reply_stored(
    *,
    conversation: Conversation,
    message: Message,
    outcome: str,
    text: str | None = None,
    extra: dict[str, Any] | None = None,
) -> SmsResult:
    reply_store(
        conversation=conversation, message=message, outcome=outcome, text=text, extra=extra or {}
    )
    return SmsResult(text=text, outcome=outcome, conversation_id=conversation.pk)


def _slow_down(*, conversation: Conversation, message: Message) -> SmsResult:
    """One polite 'slow down' per window: decided and stored under the conversation's row lock."""
    with transaction.atomic():
        Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation.pk).first()
        already = messages_count_since(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            since=timezone.now() - FLOOD_WINDOW,
            kind=Outcome.SLOWED,
        )
        outcome, text = (Outcome.THROTTLED, None) if already else (Outcome.SLOWED, SLOW_DOWN_TEXT)
        reply_store(
            conversation=conversation, message=message, outcome=outcome, text=text, extra={}
        )
    return SmsResult(text=text, outcome=outcome, conversation_id=conversation.pk)


def fallback_answer(
    *, organization: Organization, conversation: Conversation, message: Message, error: Exception
) -> SmsResult:
    """The patient gets a polite text whatever failed; staff get a flag (best effort).

    Raises SmsUnavailable when the database failed storing the fallback.
    """
    logger.error(
        "sms step=failed org=%s conversation=%s error=%s",
        organization.slug,
        conversation.pk,
        type(error).__name__,
    )
    logger.debug("sms failure detail", exc_info=error)
    text = fallback_text(organization)
    try:
        fallback_store(
            conversation=conversation,
            message=message,
            text=text,
            error=type(error).__name__,
            reason=f"Lexi could not answer ({type(error).__name__}); please follow up.",
        )
    except Exception as exc:  # the database may be what failed
        logger.error(
            "sms step=fallback_not_stored org=%s conversation=%s error=%s",
            organization.slug,
            conversation.pk,
            type(exc).__name__,
        )
        if isinstance(exc, DatabaseError):
            # A reply the transcript does not hold is half an answer: let Twilio retry.
            raise SmsUnavailable from exc
    return SmsResult(text=text, outcome=Outcome.FALLBACK, conversation_id=conversation.pk)
