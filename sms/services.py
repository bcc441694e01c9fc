"""Receive one inbound text: store it, decide how to answer, run Lexi's turn, store the reply.

The view verifies and routes; everything here runs inside the organization's tenant scope.
The patient's message is committed before anything else can fail, so it is never lost: a
failure after that point turns into a polite fallback text and a flag for staff.
"""

import logging
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from conversations.models import Channel, Conversation, Message
from conversations.selectors import message_for_provider_id, message_reply, messages_count_since
from conversations.services import (
    conversation_flag,
    conversation_open,
    message_log,
    message_metadata_merge,
)
from lexi.agent import run_turn
from lexi.engines import engine_name_for
from sms.inbound import InboundSms
from sms.models import SmsOptOut, UnroutedMessage
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
from sms.segments import sms_segments
from sms.selectors import sender_standing
from tenants.models import Organization
from tenants.phone import phone_mask
from tenants.scoping import tenant_scope

logger = logging.getLogger(__name__)

FLOOD_WINDOW = timedelta(seconds=60)
LEXI_OFF_REASON = "Lexi is turned off for this clinic: a person needs to reply."
CHANNEL_METADATA = "twilio_sms"


class SmsUnavailable(Exception):
    """The database failed before the patient's message, or the answer to it, was stored.

    The webhook answers 503 so Twilio retries; a 200 would deliver a reply nobody can see.
    """


class Outcome:
    """What became of an inbound text (stored on it as metadata.outcome)."""

    ANSWERED = "answered"
    HELP = "help"
    MEDIA = "media"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    SUPPRESSED = "suppressed"  # the phone is opted out: logged, not answered
    SLOWED = "slowed"  # over the flood limit: one "slow down" text per window
    THROTTLED = "throttled"  # over the flood limit, already told: no reply
    FALLBACK = "fallback"
    STAFF_ONLY = "staff_only"  # Lexi is off for this clinic: logged and flagged for staff


@dataclass(frozen=True)
class SmsResult:
    """The answer for the webhook: the reply text (None = no reply) and what happened."""

    text: str | None
    outcome: str
    conversation_id: int | None = None
    duplicate: bool = False


def sms_receive(*, organization: Organization, inbound: InboundSms) -> SmsResult:
    """Store an inbound text for `organization`, answer it, and return the reply.

    A MessageSid seen before returns the reply already given and stores nothing new.
    Raises SmsUnavailable when the database fails before the message is stored.
    """
    started = time.monotonic()
    with tenant_scope(organization):
        try:
            stored = _store_inbound(organization=organization, inbound=inbound)
        except DatabaseError as exc:
            _log("unavailable", organization, error=type(exc).__name__)
            raise SmsUnavailable from exc
        if isinstance(stored, SmsResult):
            return stored
        conversation, message, created = stored
        try:
            with _answer_transaction(organization):
                result = _answer(
                    organization=organization,
                    conversation=conversation,
                    message=message,
                    inbound=inbound,
                )
        except Exception as exc:  # any failure must become a polite text
            result = _fall_back(
                organization=organization, conversation=conversation, message=message, error=exc
            )
        _log(
            "replied",
            organization,
            conversation=conversation.pk,
            new=created,
            outcome=result.outcome,
            replied=result.text is not None,
            duration_ms=_ms_since(started),
        )
        return result


def _answer_transaction(organization: Organization) -> AbstractContextManager[Any]:
    """The whole answer in one transaction when no model is called: one commit, one tenant
    setting for row-level security, and a failed turn leaves nothing half-written. A turn that
    calls a model runs outside any transaction, so no lock waits on the network."""
    if engine_name_for(organization) == "offline":
        return transaction.atomic()
    return nullcontext()


def unrouted_message_store(*, inbound: InboundSms) -> UnroutedMessage:
    """Keep a text to a number no organization owns, where platform staff can see it."""
    unrouted, created = UnroutedMessage.objects.get_or_create(
        message_sid=inbound.message_sid,
        defaults={
            "from_number": inbound.from_number,
            "to_number": inbound.to_number,
            "body": inbound.body,
            "params": inbound.params,
        },
    )
    logger.warning(
        "sms step=unrouted to=%s from=%s messaging_service=%s new=%s",
        phone_mask(inbound.to_number),
        phone_mask(inbound.from_number),
        inbound.messaging_service_sid or "-",
        created,
    )
    return unrouted


def opt_out_record(
    *, organization: Organization, phone: str, opted_out: bool, keyword: str
) -> SmsOptOut:
    """Record a phone's STOP (opted_out=True) or START (False) for this organization."""
    record, _created = SmsOptOut.objects.update_or_create(
        organization=organization,
        phone=phone,
        defaults={"opted_out": opted_out, "keyword": keyword},
    )
    return record


# --- storing ------------------------------------------------------------------------------


def _store_inbound(
    *, organization: Organization, inbound: InboundSms
) -> tuple[Conversation, Message, bool] | SmsResult:
    """Commit the patient's message (one transaction) or, for a known MessageSid, the replay.

    A retried MessageSid is caught by the unique constraint, not looked up first: the common
    case (a new text) pays no extra query.
    """
    try:
        with transaction.atomic():
            conversation, created = conversation_open(
                organization=organization,
                session_id=inbound.session_id,
                channel=Channel.SMS,
                from_number=inbound.from_number,
                to_number=inbound.to_number,
                metadata={"channel": CHANNEL_METADATA},
                quiet_after=timedelta(hours=settings.LEXI_CONVERSATION_QUIET_HOURS),
            )
            conversation.organization = organization
            history = conversation.message_count
            message = message_log(
                conversation=conversation,
                role=Message.Role.USER,
                content=inbound.body,
                metadata=_inbound_metadata(inbound),
                provider_message_id=inbound.message_sid,
                conversation_metadata={
                    "channel": CHANNEL_METADATA,
                    "last_message_sid": inbound.message_sid,
                },
            )
    except IntegrityError:
        # This MessageSid was stored before (a Twilio retry, maybe still in flight): answer as
        # that request did. Everything this attempt wrote was rolled back with the transaction.
        existing = message_for_provider_id(
            organization=organization, provider_message_id=inbound.message_sid
        )
        if existing is None:
            raise
        return _replay(organization=organization, message=existing)
    _log(
        "stored",
        organization,
        conversation=conversation.pk,
        new=created,
        history=history + 1,
        segments=message.metadata["segments"],
        media=len(inbound.media),
    )
    logger.debug("sms inbound body=%r", inbound.body)
    return conversation, message, created


def _inbound_metadata(inbound: InboundSms) -> dict[str, Any]:
    segments = inbound.num_segments or sms_segments(inbound.body).segments
    return {
        "message_sid": inbound.message_sid,
        "from": inbound.from_number,
        "to": inbound.to_number,
        "segments": segments,
        "encoding": sms_segments(inbound.body).encoding,
        "media_count": len(inbound.media),
        "media_urls": [item["url"] for item in inbound.media],
        "media_types": [item["content_type"] for item in inbound.media],
        "account_sid": inbound.account_sid,
        "messaging_service_sid": inbound.messaging_service_sid,
    }


def _replay(*, organization: Organization, message: Message) -> SmsResult:
    """The answer already given to this inbound message; waits while it may be in flight.

    One whose answer was never stored (the database failed mid-turn and the first request got
    a 503) is answered now, with the polite fallback and a flag for staff.
    """
    in_flight_until = message.timestamp + timedelta(seconds=settings.LEXI_TURN_DEADLINE_SECONDS + 2)
    while "outcome" not in message.metadata and timezone.now() < in_flight_until:
        time.sleep(0.2)
        message.refresh_from_db(fields=["metadata"])
    if "outcome" not in message.metadata:
        _answer_interrupted(organization=organization, message=message)
    outcome = message.metadata.get("outcome")
    reply = message_reply(message=message) if outcome else None
    _log(
        "duplicate",
        organization,
        conversation=message.conversation_id,
        outcome=outcome or "in_flight",
        replied=reply is not None,
    )
    return SmsResult(
        text=reply.content if reply is not None else None,
        outcome=outcome or "in_flight",
        conversation_id=message.conversation_id,
        duplicate=True,
    )


def _answer_interrupted(*, organization: Organization, message: Message) -> None:
    """Store the fallback for a message whose turn died, once: decided under its row lock."""
    with transaction.atomic():
        locked = Message.objects.select_for_update(of=("self",)).get(pk=message.pk)
        if "outcome" not in locked.metadata:
            conversation = Conversation.objects.get(pk=locked.conversation_id)
            conversation_flag(
                conversation=conversation,
                reason="Lexi's answer was interrupted by a database failure; please follow up.",
            )
            _reply_store(
                conversation=conversation,
                message=locked,
                outcome=Outcome.FALLBACK,
                text=fallback_text(organization),
                extra={"fell_back": True, "error": "interrupted"},
            )
        message.metadata = locked.metadata


# --- answering -----------------------------------------------------------------------------


def _answer(
    *, organization: Organization, conversation: Conversation, message: Message, inbound: InboundSms
) -> SmsResult:
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
        conversation_flag(conversation=conversation, reason="The patient sent a picture.")
        outcome, text = Outcome.MEDIA, media_text(organization)
    else:
        if inbound.media:
            conversation_flag(conversation=conversation, reason="The patient sent a picture.")
        outcome = Outcome.ANSWERED
        text, extra = _lexi_turn(
            organization=organization, conversation=conversation, message=message
        )
    return _reply_stored(
        conversation=conversation, message=message, outcome=outcome, text=text, extra=extra
    )


def _reply_stored(
    *,
    conversation: Conversation,
    message: Message,
    outcome: str,
    text: str | None = None,
    extra: dict[str, Any] | None = None,
) -> SmsResult:
    _reply_store(
        conversation=conversation, message=message, outcome=outcome, text=text, extra=extra or {}
    )
    return SmsResult(text=text, outcome=outcome, conversation_id=conversation.pk)


def _lexi_turn(
    *, organization: Organization, conversation: Conversation, message: Message
) -> tuple[str, dict[str, Any]]:
    started = time.monotonic()
    reply = run_turn(conversation=conversation, message=message)
    text = reply_text_limit(reply.text)
    if not text:
        raise ValueError("Lexi's turn produced an empty reply")
    _log(
        "turn",
        organization,
        conversation=conversation.pk,
        engine=reply.engine,
        fell_back=reply.fell_back,
        flagged=reply.flagged,
        tool_calls=reply.tool_calls,
        duration_ms=_ms_since(started),
    )
    return text, {
        "engine": reply.engine,
        "fell_back": reply.fell_back,
        "flagged": reply.flagged,
        "usage": reply.usage,
        "tool_calls": reply.tool_calls,
    }


def _reply_store(
    *,
    conversation: Conversation,
    message: Message,
    outcome: str,
    text: str | None,
    extra: dict[str, Any],
) -> None:
    """Store Lexi's reply linked to the inbound message, then mark the inbound as answered."""
    # Within an answer's transaction a failure here fails the whole answer: no savepoint.
    with transaction.atomic(savepoint=False):
        outcome_values: dict[str, Any] = {"outcome": outcome}
        if text is not None:
            segments = sms_segments(text)
            reply = message_log(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                content=text,
                metadata={
                    "in_reply_to": message.pk,
                    "kind": outcome,
                    "segments": segments.segments,
                    "encoding": segments.encoding,
                    **extra,
                },
            )
            outcome_values["reply_id"] = reply.pk
        message_metadata_merge(message=message, values=outcome_values)


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
        _reply_store(
            conversation=conversation, message=message, outcome=outcome, text=text, extra={}
        )
    return SmsResult(text=text, outcome=outcome, conversation_id=conversation.pk)


def _fall_back(
    *, organization: Organization, conversation: Conversation, message: Message, error: Exception
) -> SmsResult:
    """The patient gets a polite text whatever failed; staff get a flag (best effort)."""
    logger.error(
        "sms step=failed org=%s conversation=%s error=%s",
        organization.slug,
        conversation.pk,
        type(error).__name__,
    )
    logger.debug("sms failure detail", exc_info=error)
    text = fallback_text(organization)
    try:
        conversation_flag(
            conversation=conversation,
            reason=f"Lexi could not answer ({type(error).__name__}); please follow up.",
        )
        _reply_store(
            conversation=conversation,
            message=message,
            outcome=Outcome.FALLBACK,
            text=text,
            extra={"fell_back": True, "error": type(error).__name__},
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


# --- small helpers -------------------------------------------------------------------------


def _log(step: str, organization: Organization, **fields: Any) -> None:
    details = " ".join(f"{key}={value}" for key, value in fields.items())
    logger.info("sms step=%s org=%s %s", step, organization.slug, details)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
