"""A patient's text in answer to a reminder: confirm it here, or tell Lexi's turn what it is about.

The channel's answering rules call `reminder_reply_take` for every text that reaches them, with
the reminder the clinic sent just before it (`reminder_id_last_sent`, which the SMS channel
reads in the statement that locks the text): nothing more is read when there is none.
"""

from __future__ import annotations

from booking.services import appointment_confirm
from conversations.models import Conversation, Message
from conversations.services import conversation_flag, message_metadata_merge
from reminders.selectors import reminder_answered
from reminders.services import appointment_words
from reminders.texts import CONFIRM, confirmation_text, reminder_reply_kind
from tenants.models import Organization

# Where Lexi's turn finds it (lexi.context.TurnContext.reminder_about).
METADATA_KEY = "reminder"


def reminder_reply_take(
    *,
    organization: Organization,
    conversation: Conversation,
    message: Message,
    reminder_id: int | None,
) -> str | None:
    """The one-line answer when `message` confirms the visit a reminder asked about.

    Any other answer to a reminder is tagged with that appointment and what it asks (reschedule,
    cancel or "") for Lexi's turn, and None is returned: Lexi answers it.
    """
    reminder = reminder_answered(reminder_id=reminder_id)
    if reminder is None:
        return None
    appointment = reminder.appointment
    kind = reminder_reply_kind(message.content)
    about = {"appointment_id": str(appointment.pk), "reminder_id": reminder.pk, "action": kind}
    message_metadata_merge(message=message, values={METADATA_KEY: about})
    if kind == CONFIRM and appointment_confirm(organization=organization, appointment=appointment):
        return confirmation_text(appointment_words(appointment=appointment))
    return None


def reminder_opt_out_note(
    *, conversation: Conversation, message: Message, reminder_id: int | None
) -> None:
    """A bare CANCEL is a carrier opt-out keyword, whatever it answers. When it answers a
    reminder the patient may have meant the visit: ask staff to call."""
    reminder = reminder_answered(reminder_id=reminder_id)
    if reminder is None:
        return
    words = appointment_words(appointment=reminder.appointment)
    conversation_flag(
        conversation=conversation,
        reason=(
            f"Replied {message.content.strip()[:20]!r} to the reminder for the {words.visit_type} "
            f"on {words.date} at {words.time}: opted out of texts (a carrier keyword). The "
            "visit is still booked; call if they meant to cancel it."
        ),
    )
