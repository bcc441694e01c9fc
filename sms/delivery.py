"""Sending a stored outbound text, once, and recording what became of it.

A text's `delivery_status` only moves forward (conversations.models.DELIVERY_RANK), each step
a conditional UPDATE: two workers given the same text cannot both send it, and a late status
callback cannot undo a later one. A worker that dies between handing the text to Twilio and
recording the answer leaves it `sending`: the sweep marks it unknown and flags it for staff,
and it is never sent again (at most once).
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from conversations.models import DELIVERY_RANK, Conversation, DeliveryStatus, Message
from conversations.services import conversation_flag
from frontdesk.steplog import step_log
from sms.errors import delivery_error_text
from sms.selectors import phone_opted_out
from sms.sending import (
    OutboundSms,
    SendOutcomeUnknown,
    SendRejected,
    SendRetryable,
    sms_backend,
)
from sms.storing import opt_out_record
from tenants.models import Organization
from tenants.scoping import scope_required

logger = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/api/twilio/message-status"
UNSUBSCRIBED_CODE = 21610  # Twilio: the recipient replied STOP to this number


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt came to: the message's status, and whether we sent it."""

    status: str
    sent: bool


def message_deliver(*, organization: Organization, message_id: int) -> Delivery:
    """Send the queued text `message_id` through the configured backend, at most once.

    Retries what the provider did not take (429, 5xx, no connection) with backoff inside
    LEXI_SEND_RETRY_WINDOW_SECONDS; records a refusal with its error code and flags the
    conversation; does nothing for a text another worker has taken or finished.
    """
    scope_required(organization)
    claimed = _status_advance(message_id=message_id, status=DeliveryStatus.SENDING)
    message = Message.objects.select_related("conversation").get(pk=message_id)
    if not claimed:
        return Delivery(status=message.delivery_status, sent=False)
    conversation = message.conversation
    if phone_opted_out(organization=organization, phone=conversation.from_number):
        _failed(message, code=UNSUBSCRIBED_CODE, flag=False)
        return Delivery(status=DeliveryStatus.FAILED, sent=False)
    outbound = OutboundSms(
        organization=organization,
        from_number=conversation.to_number,
        to_number=conversation.from_number,
        body=message.content,
        status_callback=_status_callback_url(),
    )
    give_up_at = time.monotonic() + settings.LEXI_SEND_RETRY_WINDOW_SECONDS
    backoff = settings.LEXI_SEND_BACKOFF_SECONDS
    backend = sms_backend()
    while True:
        try:
            receipt = backend.send(outbound)
        except SendRetryable as exc:
            wait = max(backoff, min(exc.retry_after, 30.0))
            if time.monotonic() + wait > give_up_at:
                _failed(message, code=exc.code, flag=True, detail=f"gave up retrying: {exc.detail}")
                return Delivery(status=DeliveryStatus.FAILED, sent=False)
            step_log("send_retry", organization, message=message.pk, code=exc.code, wait_s=wait)
            time.sleep(wait)
            backoff *= 2
            continue
        except SendRejected as exc:
            if exc.code == UNSUBSCRIBED_CODE:
                opt_out_record(
                    organization=organization,
                    phone=conversation.from_number,
                    opted_out=True,
                    keyword=str(UNSUBSCRIBED_CODE),
                )
            _failed(message, code=exc.code, flag=True, detail=exc.detail)
            return Delivery(status=DeliveryStatus.FAILED, sent=False)
        except SendOutcomeUnknown as exc:
            _unknown(message, detail=exc.detail)
            return Delivery(status=DeliveryStatus.UNKNOWN, sent=False)
        break
    status = _status_from_provider(receipt.status)
    Message.objects.filter(pk=message.pk).update(provider_message_id=receipt.sid)
    _status_advance(message_id=message.pk, status=status)
    step_log("sent", organization, message=message.pk, status=status)
    return Delivery(status=status, sent=True)


def message_status_record(
    *, organization: Organization, sid: str, status: str, error_code: int | None
) -> bool:
    """Record Twilio's status callback for the text it knows as `sid`; False if none is ours.

    Idempotent, and a regression (a late `sent` after `delivered`) changes nothing.
    """
    scope_required(organization)
    message = (
        Message.objects.filter(provider_message_id=sid)
        .only("pk", "conversation", "organization")
        .first()
    )
    if message is None:
        return False
    new_status = _status_from_provider(status)
    moved = _status_advance(message_id=message.pk, status=new_status, error_code=error_code)
    if moved and new_status in (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED):
        conversation_flag(
            conversation=Conversation(
                pk=message.conversation_id, organization_id=message.organization_id
            ),
            reason=f"A text could not be delivered: {delivery_error_text(error_code)}",
        )
    return True


def deliveries_unfinished(*, older_than: datetime) -> list[tuple[str, int, str]]:
    """(organization id, message id, status) of outbound texts still queued or sending since
    before `older_than`."""
    rows = Message.objects.filter(
        delivery_status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENDING),
        delivery_updated_at__lt=older_than,
    ).values_list("organization_id", "pk", "delivery_status")
    return [(str(org), pk, status) for org, pk, status in rows]


def delivery_abandon(*, organization: Organization, message_id: int) -> bool:
    """Mark a text stuck in `sending` (its worker died) unknown and flag it: never resend it."""
    scope_required(organization)
    message = Message.objects.filter(pk=message_id, delivery_status=DeliveryStatus.SENDING).first()
    if message is None:
        return False
    _unknown(message, detail="the worker sending it stopped")
    return True


def _status_advance(*, message_id: int, status: str, error_code: int | None = None) -> bool:
    """Move the text to `status` if that is forward from where it is; True if it moved."""
    rank = DELIVERY_RANK[DeliveryStatus(status)]
    earlier = [s for s, r in DELIVERY_RANK.items() if r < rank]
    changes: dict[str, object] = {"delivery_status": status, "delivery_updated_at": timezone.now()}
    if error_code is not None:
        changes["delivery_error_code"] = error_code
    return bool(
        Message.objects.filter(Q(pk=message_id), Q(delivery_status__in=earlier)).update(**changes)
    )


def _status_from_provider(status: str) -> str:
    """Twilio's message status in ours: queued/accepted/scheduled are still `sending` to us."""
    try:
        known = DeliveryStatus(status)
    except ValueError:
        return DeliveryStatus.SENDING
    return DeliveryStatus.SENDING if known == DeliveryStatus.QUEUED else known


def _failed(message: Message, *, code: int | None, flag: bool, detail: str = "") -> None:
    _status_advance(message_id=message.pk, status=DeliveryStatus.FAILED, error_code=code)
    logger.warning(
        "sms step=send_failed message=%s code=%s detail=%s", message.pk, code, detail or "-"
    )
    if flag:
        conversation_flag(
            conversation=message.conversation,
            reason=f"A text could not be sent: {delivery_error_text(code)}",
        )


def _unknown(message: Message, *, detail: str) -> None:
    _status_advance(message_id=message.pk, status=DeliveryStatus.UNKNOWN)
    logger.warning("sms step=send_unknown message=%s detail=%s", message.pk, detail)
    conversation_flag(
        conversation=message.conversation,
        reason="A text may not have been sent (no answer from Twilio); please check with the "
        "patient.",
    )


def _status_callback_url() -> str:
    base = settings.PUBLIC_BASE_URL
    return base + STATUS_CALLBACK_PATH if base else ""
