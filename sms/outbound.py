"""The one way out for every text that is not an inline reply: staff replies, reminders,
confirmations. Stored in the conversation first (status queued), then sent by a task."""

from typing import Any

from django.db import transaction

from conversations.models import Conversation, DeliveryStatus, Message
from conversations.services import message_log
from frontdesk.replies import MAX_REPLY_CHARS
from sms.selectors import phone_opted_out
from sms.tasks import sms_deliver_enqueue
from tenants.models import Organization
from tenants.scoping import scope_required


class SendRefused(Exception):
    """The text was not stored or sent; `str(exc)` says why, in words staff can read."""


class RecipientOptedOut(SendRefused):
    pass


def sms_send(
    *,
    organization: Organization,
    conversation: Conversation,
    body: str,
    role: str = Message.Role.ASSISTANT,
    sent_by: Any = None,
    outcome: str = "",
    metadata: dict[str, Any] | None = None,
) -> Message:
    """Store a text to the conversation's patient, from the clinic's number, and queue it.

    Raises RecipientOptedOut for a phone that said STOP, SendRefused for an empty body or
    one over 1,600 characters; nothing is stored then.
    """
    scope_required(organization)
    body = body.replace("\x00", "").strip()
    if not body:
        raise SendRefused("The message is empty.")
    if len(body) > MAX_REPLY_CHARS:
        raise SendRefused(
            f"The message is {len(body):,} characters long; a text can have at most "
            f"{MAX_REPLY_CHARS:,}."
        )
    if phone_opted_out(organization=organization, phone=conversation.from_number):
        raise RecipientOptedOut(
            "This patient has opted out of texts (replied STOP); nothing was sent. They can "
            "text START to opt back in."
        )
    with transaction.atomic():
        message = message_log(
            conversation=conversation,
            role=role,
            content=body,
            metadata=metadata,
            outcome=outcome,
            delivery_status=DeliveryStatus.QUEUED,
            sent_by=sent_by,
        )
        sms_deliver_enqueue(organization=organization, message_id=message.pk)
    return message
