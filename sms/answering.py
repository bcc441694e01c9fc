"""Decide how to answer a stored inbound text, and store that answer.

The rules, first match wins: STOP words opt the phone out (and so does asking in words,
"stop texting me", which Lexi confirms herself); START words (and YES from an
opted-out phone) opt it back in; an opted-out phone is not answered; a sender over the flood
limit is told to slow down once per window; HELP gets the help text; a conversation staff
have taken over (Lexi paused, frontdesk/pause.py) is left to them; a clinic with Lexi off
gets a flag for staff; a picture alone gets the media text; anything else is Lexi's turn —
inline, or queued for a worker (see sms/replying.py) in the clinic's queued reply mode.
A text answering an appointment reminder (reminders/replies.py) is looked at just after HELP
(before the pause: a confirmation is recorded and answered even while staff have the
conversation); anything else goes on to Lexi, tagged with the appointment.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.models import Conversation, Message, Outcome
from conversations.selectors import messages_count_since
from conversations.services import conversation_flag
from frontdesk.outcomes import AnswerResult
from frontdesk.pause import lexi_paused, paused_text_keep
from frontdesk.storing import reply_store
from frontdesk.turns import lexi_answer
from lexi.engines import Engine
from reminders.replies import reminder_opt_out_note, reminder_reply_take
from sms.inbound import InboundSms
from sms.optout import opt_out_confirmation, opt_out_language
from sms.replies import (
    HELP_WORDS,
    OPT_IN_IF_OPTED_OUT,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    SLOW_DOWN_TEXT,
    help_text,
    media_text,
    sms_keyword,
)
from sms.selectors import TextStanding
from sms.storing import opt_out_record
from tenants.models import Organization

FLOOD_WINDOW = timedelta(seconds=60)
LEXI_OFF_REASON = "Lexi is turned off for this clinic: a person needs to reply."
PICTURE_REASON = "The patient sent a picture."


def inbound_answer(
    *,
    organization: Organization,
    conversation: Conversation,
    message: Message,
    inbound: InboundSms,
    engine: Engine,
    queued: bool,
    standing: TextStanding,
) -> AnswerResult:
    """Answer a stored inbound text by the rules above and store the answer on it.

    `standing` is what `text_standing_locked` read with the lock on the text.

    With `queued`, Lexi's turn is left to the worker: the text is marked QUEUED and the
    caller enqueues the reply task once this transaction commits.
    """
    keyword = sms_keyword(inbound.body)
    phone = inbound.from_number
    text: str | None = None
    if keyword in OPT_OUT_WORDS:
        opt_out_record(organization=organization, phone=phone, opted_out=True, keyword=keyword)
        reminder_opt_out_note(
            conversation=conversation, message=message, reminder_id=standing.reminder_id
        )
        return _reply_stored(conversation=conversation, message=message, outcome=Outcome.OPTED_OUT)
    if (language := opt_out_language(inbound.body)) is not None:
        # Said in words: Twilio does not act on it, so Lexi records it and confirms it once.
        opt_out_record(organization=organization, phone=phone, opted_out=True, keyword="words")
        return _reply_stored(
            conversation=conversation,
            message=message,
            outcome=Outcome.OPTED_OUT,
            text=opt_out_confirmation(organization.name, language),
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
    elif confirmed := reminder_reply_take(
        organization=organization,
        conversation=conversation,
        message=message,
        reminder_id=standing.reminder_id,
    ):
        outcome, text = Outcome.ANSWERED, confirmed
    elif lexi_paused(conversation=conversation):
        paused_text_keep(conversation=conversation, message=message)
        outcome = Outcome.PAUSED
    elif not organization.lexi_enabled:
        conversation_flag(conversation=conversation, reason=LEXI_OFF_REASON)
        outcome = Outcome.STAFF_ONLY
    elif not inbound.body.strip() and inbound.media:
        conversation_flag(conversation=conversation, reason=PICTURE_REASON)
        outcome, text = Outcome.MEDIA, media_text(organization)
    else:
        if inbound.media:
            conversation_flag(conversation=conversation, reason=PICTURE_REASON)
        if queued:
            return _reply_stored(conversation=conversation, message=message, outcome=Outcome.QUEUED)
        answer = lexi_answer(
            organization=organization,
            conversation=conversation,
            message=message,
            channel="sms",
            engine=engine,
        )
        reply_store(
            conversation=conversation,
            message=message,
            outcome=Outcome.ANSWERED,
            text=answer.text,
            metadata=answer.metadata,
            fell_back=answer.fell_back,
        )
        return AnswerResult(answer.text, Outcome.ANSWERED, conversation.pk)
    return _reply_stored(conversation=conversation, message=message, outcome=outcome, text=text)


def _reply_stored(
    *, conversation: Conversation, message: Message, outcome: str, text: str | None = None
) -> AnswerResult:
    reply_store(conversation=conversation, message=message, outcome=outcome, text=text)
    return AnswerResult(text=text, outcome=outcome, conversation_id=conversation.pk)


def _slow_down(*, conversation: Conversation, message: Message) -> AnswerResult:
    """One polite 'slow down' per window: decided and stored under the conversation's row lock."""
    with transaction.atomic():
        Conversation.objects.select_for_update(of=("self",)).filter(pk=conversation.pk).first()
        already = messages_count_since(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            since=timezone.now() - FLOOD_WINDOW,
            outcome=Outcome.SLOWED,
        )
        outcome, text = (
            (Outcome.THROTTLED, None) if already else (Outcome.SLOWED, str(SLOW_DOWN_TEXT))
        )
        return _reply_stored(conversation=conversation, message=message, outcome=outcome, text=text)
