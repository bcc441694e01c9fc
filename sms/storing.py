"""The SMS channel's writes: the inbound text, the reply to it, a fallback, a phone's opt-out.

Storing the inbound text is also where a Twilio retry is recognised: a MessageSid stored
before is answered with the reply already given (see `_replay`), never answered twice.
"""

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Channel, Conversation, Message
from conversations.selectors import message_for_provider_id, message_reply
from conversations.services import (
    conversation_flag,
    conversation_open,
    message_log,
    message_metadata_merge,
)
from sms.inbound import InboundSms
from sms.models import SmsOptOut
from sms.outcomes import Outcome, SmsResult
from sms.replies import fallback_text
from sms.segments import sms_segments
from sms.steplog import step_log
from tenants.models import Organization

logger = logging.getLogger(__name__)

CHANNEL_METADATA = "twilio_sms"


def inbound_store(
    *, organization: Organization, inbound: InboundSms
) -> tuple[Conversation, Message, bool] | SmsResult:
    """Commit the patient's message (one transaction) or, for a known MessageSid, the replay.

    Returns the conversation, the stored message and whether the conversation is new.
    A retried MessageSid is caught by the unique constraint, not looked up first: the common
    case (a new text) pays no extra query. Raises DatabaseError when nothing could be stored.
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
    step_log(
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
    step_log(
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
            fallback_store(
                conversation=Conversation.objects.get(pk=locked.conversation_id),
                message=locked,
                text=fallback_text(organization),
                error="interrupted",
                reason="Lexi's answer was interrupted by a database failure; please follow up.",
            )
        message.metadata = locked.metadata


def reply_store(
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


def fallback_store(
    *, conversation: Conversation, message: Message, text: str, error: str, reason: str
) -> None:
    """Flag the conversation for staff with `reason`, then store the polite fallback `text`."""
    conversation_flag(conversation=conversation, reason=reason)
    reply_store(
        conversation=conversation,
        message=message,
        outcome=Outcome.FALLBACK,
        text=text,
        extra={"fell_back": True, "error": error},
    )


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
