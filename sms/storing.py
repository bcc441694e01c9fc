"""The SMS channel's writes: the inbound text (a retry recognised), a phone's opt-out."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from conversations.language import conversation_language, conversation_language_of
from conversations.models import Channel, Conversation, Message
from conversations.segments import sms_segments
from conversations.selectors import message_for_provider_id
from conversations.services import conversation_open, message_log
from frontdesk.steplog import step_log
from sms.inbound import InboundSms
from sms.models import SmsOptOut
from tenants.models import Organization

logger = logging.getLogger(__name__)

CHANNEL_METADATA = "twilio_sms"


@dataclass(frozen=True)
class StoredText:
    """The patient's text as stored: new, or the one a retried MessageSid stored before."""

    conversation: Conversation
    message: Message
    conversation_created: bool
    duplicate: bool

    @property
    def language(self) -> str:
        """What Lexi's own texts to this patient are written in (the conversation's language)."""
        return conversation_language_of(self.conversation)


def inbound_store(*, organization: Organization, inbound: InboundSms) -> StoredText:
    """Commit the patient's message (one transaction), or find the one stored for this SID.

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
            history = conversation.message_count
            language = conversation_language(metadata=conversation.metadata, text=inbound.body)
            message = message_log(
                conversation=conversation,
                role=Message.Role.USER,
                content=inbound.body,
                metadata=_inbound_metadata(inbound),
                provider_message_id=inbound.message_sid,
                conversation_metadata={
                    "channel": CHANNEL_METADATA,
                    "last_message_sid": inbound.message_sid,
                    **({"language": language} if language else {}),
                },
            )
    except IntegrityError:
        # This MessageSid was stored before (a Twilio retry, maybe still in flight). Everything
        # this attempt wrote was rolled back with the transaction.
        existing = message_for_provider_id(
            organization=organization, provider_message_id=inbound.message_sid
        )
        if existing is None:
            raise
        return StoredText(existing.conversation, existing, False, duplicate=True)
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
    return StoredText(conversation, message, created, duplicate=False)


def _inbound_metadata(inbound: InboundSms) -> dict[str, Any]:
    segments = sms_segments(inbound.body)
    return {
        "message_sid": inbound.message_sid,
        "from": inbound.from_number,
        "to": inbound.to_number,
        "segments": inbound.num_segments or segments.segments,
        "encoding": segments.encoding,
        "media_count": len(inbound.media),
        "media_urls": [item["url"] for item in inbound.media],
        "media_types": [item["content_type"] for item in inbound.media],
        "account_sid": inbound.account_sid,
        "messaging_service_sid": inbound.messaging_service_sid,
    }


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
