"""A text after a booking, move or cancellation by phone: the caller has it in writing.

Sent through the outbound path into the caller's SMS thread, from the number they called when
it can text, else from the clinic's texting number. Not sent to a phone that opted out.
"""

import logging

from booking.models import Appointment
from conversations.models import Conversation, Message
from conversations.selectors import tool_calls_succeeded
from lexi.tools.registry import APPOINTMENT_CHANGES, ToolName
from reminders.selectors import clinic_sms_number
from reminders.services import appointment_words, patient_conversation
from reminders.texts import change_notice_text
from sms.outbound import SendRefused, sms_send
from tenants.models import Organization
from voice.selectors import number_texts

logger = logging.getLogger(__name__)

_KINDS = {
    ToolName.BOOK_APPOINTMENT: "booked",
    ToolName.RESCHEDULE_APPOINTMENT: "moved",
    ToolName.CANCEL_APPOINTMENT: "cancelled",
}


def call_changes_confirm(
    *, organization: Organization, conversation: Conversation, message: Message
) -> list[Message]:
    """Text the caller each appointment change Lexi made while answering `message`."""
    changes = tool_calls_succeeded(message=message, names=APPOINTMENT_CHANGES)
    if not changes:
        return []
    number = conversation.to_number
    if not number_texts(organization=organization, number=number):
        number = clinic_sms_number(organization=organization)
    if not number:
        logger.info(
            "voice step=confirmation_skipped org=%s reason=no_sms_number", organization.slug
        )
        return []
    thread = patient_conversation(
        organization=organization, patient_phone=conversation.from_number, clinic_number=number
    )
    sent = []
    for call in changes:
        appointment = Appointment.objects.filter(
            pk=(call.result or {}).get("appointment_id")
        ).first()
        if appointment is None:
            continue
        kind = _KINDS[ToolName(call.name)]
        body = change_notice_text(kind, appointment_words(appointment=appointment))
        try:
            sent.append(
                sms_send(
                    organization=organization,
                    conversation=thread,
                    body=body,
                    metadata={"appointment_id": appointment.pk, "confirms_call": conversation.pk},
                )
            )
        except SendRefused as exc:  # opted out of texts: the call itself confirmed it
            logger.info(
                "voice step=confirmation_skipped org=%s reason=%s",
                organization.slug,
                type(exc).__name__,
            )
    return sent
