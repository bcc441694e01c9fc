"""A phone call with Lexi: answer it, take each spoken turn, record how it ended.

Runs inside the clinic's tenant scope (the views open it). Each spoken turn is stored before
anything can fail, under an id made of the CallSid and the turn number, so a retried request
finds it and gets the same answer (stored with the reply) instead of a second turn. Lexi's turn
is the same as for a text (same engines, tools and booking), said for the ear; a model gets
LEXI_VOICE_DEADLINE_SECONDS before the offline engine answers.
"""

import logging
import re
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Channel, Conversation, Message, Outcome
from conversations.selectors import message_for_provider_id, message_reply
from conversations.services import conversation_flag, conversation_open, message_log
from frontdesk.pause import lexi_paused
from frontdesk.steplog import ms_since, step_log
from frontdesk.storing import answer_lock, reply_store
from frontdesk.turns import fallback_answer, lexi_answer
from lexi.engines import engine_for
from tenants.models import Organization
from tenants.scoping import scope_required
from voice.calls import TAKE_MESSAGE, InboundCall
from voice.confirmations import call_changes_confirm
from voice.selectors import call_conversation
from voice.speech import speech_text
from voice.twiml import Then, VoiceStep

logger = logging.getLogger(__name__)

CHANNEL_METADATA = "twilio_voice"
MAX_SILENCES = 2
SILENCE_PROMPT = "Sorry, I didn't hear anything. How can I help you?"
SILENT_GOODBYE = "I still can't hear you, so I'll hang up now. Please call back any time. Goodbye."
UNCLEAR_PROMPT = "Sorry, I didn't quite catch that. Could you say it again?"
UNKNOWN_CALL = "Sorry, I've lost track of this call. Please call us back. Goodbye."
MESSAGE_TAKEN = (
    "Thank you. I've passed your message to our team, and they'll call you back. Goodbye."
)
MESSAGE_REASON = "The caller left a message for staff."
LEXI_OFF_REASON = "Lexi is turned off for this clinic: the caller needs a person."

_CALL_US = re.compile(r"[^.?!]*\bcall us\b[^.?!]*[.?!]?", re.IGNORECASE)

FINAL_STATUSES = {
    "completed": Conversation.Status.COMPLETED,
    "busy": Conversation.Status.BUSY,
    "failed": Conversation.Status.FAILED,
    "no-answer": Conversation.Status.NO_ANSWER,
    "canceled": Conversation.Status.CANCELED,
}


def greeting_text(organization: Organization) -> str:
    return f"Hi! Thanks for calling {organization.name}. This is Lexi. How can I help you today?"


def call_answer(*, organization: Organization, call: InboundCall) -> VoiceStep:
    """Open the call's conversation and greet the caller (a retried request: the same)."""
    scope_required(organization)
    with transaction.atomic():
        conversation, created = conversation_open(
            organization=organization,
            session_id=call.session_id,
            channel=Channel.VOICE,
            from_number=call.from_number,
            to_number=call.to_number,
            metadata={"channel": CHANNEL_METADATA, "call_sid": call.call_sid},
        )
        if organization.lexi_enabled:
            step = VoiceStep(say=greeting_text(organization), then=Then.GATHER, turn=1)
        else:
            conversation_flag(conversation=conversation, reason=LEXI_OFF_REASON)
            step = _person_step(organization, f"Thanks for calling {organization.name}.", turn=1)
        if created:
            message_log(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                content=step.say,
                metadata={"voice": step.as_metadata()},
            )
    step_log("call", organization, channel="voice", conversation=conversation.pk, new=created)
    return step


def call_turn(*, organization: Organization, call: InboundCall) -> VoiceStep:
    """Answer one spoken turn (or its silence); the next step of the call."""
    scope_required(organization)
    started = time.monotonic()
    conversation = call_conversation(organization=organization, call_sid=call.call_sid)
    if conversation is None:
        return VoiceStep(say=UNKNOWN_CALL, then=Then.HANGUP)
    if not call.speech:
        if call.take == TAKE_MESSAGE:
            return VoiceStep(say=MESSAGE_TAKEN, then=Then.HANGUP)
        quiet = call.quiet + 1
        if quiet > MAX_SILENCES:
            return VoiceStep(say=SILENT_GOODBYE, then=Then.HANGUP)
        return VoiceStep(say=SILENCE_PROMPT, then=Then.GATHER, turn=call.turn, quiet=quiet)
    message = _speech_store(organization=organization, conversation=conversation, call=call)
    try:
        with transaction.atomic():
            # Held until the answer commits: a retried request waits here, then replays it.
            if answer_lock(message=message) != Outcome.PENDING:
                return _replayed(message)
            step = _answer(
                organization=organization, conversation=conversation, message=message, call=call
            )
    except Exception as exc:  # any failure must become polite words and a person
        step = _fallback(
            organization=organization, conversation=conversation, message=message, error=exc
        )
    step_log(
        "replied",
        organization,
        channel="voice",
        conversation=conversation.pk,
        then=step.then,
        duration_ms=ms_since(started),
    )
    return step


def _speech_store(
    *, organization: Organization, conversation: Conversation, call: InboundCall
) -> Message:
    """The caller's words, committed first; the ones stored before for a retried turn."""
    try:
        with transaction.atomic():
            return message_log(
                conversation=conversation,
                role=Message.Role.USER,
                content=call.speech,
                metadata={"confidence": call.confidence, "turn": call.turn},
                provider_message_id=call.turn_id,
            )
    except IntegrityError:
        existing = message_for_provider_id(
            organization=organization, provider_message_id=call.turn_id
        )
        if existing is None:
            raise
        return existing


def _answer(
    *, organization: Organization, conversation: Conversation, message: Message, call: InboundCall
) -> VoiceStep:
    next_turn = call.turn + 1
    metadata: dict[str, object] = {}
    fell_back = False
    if call.take == TAKE_MESSAGE:
        conversation_flag(conversation=conversation, reason=MESSAGE_REASON)
        outcome, step = Outcome.STAFF_ONLY, VoiceStep(say=MESSAGE_TAKEN, then=Then.HANGUP)
    elif call.confidence is not None and call.confidence < settings.LEXI_VOICE_MIN_CONFIDENCE:
        outcome, step = Outcome.UNCLEAR, VoiceStep(say=UNCLEAR_PROMPT, turn=next_turn)
    elif lexi_paused(conversation=conversation) or not organization.lexi_enabled:
        outcome, step = Outcome.STAFF_ONLY, _person_step(organization, "", turn=next_turn)
    else:
        answer = lexi_answer(
            organization=organization,
            conversation=conversation,
            message=message,
            channel="voice",
            engine=engine_for(organization),
            deadline_seconds=settings.LEXI_VOICE_DEADLINE_SECONDS,
        )
        said = speech_text(answer.text)
        if lexi_paused(conversation=conversation):  # she handed the caller to a person
            step = _person_step(organization, said, turn=next_turn)
        else:
            step = VoiceStep(say=said, then=Then.GATHER, turn=next_turn)
        outcome, metadata = Outcome.ANSWERED, {**answer.metadata, "written": answer.text}
        fell_back = answer.fell_back
        if answer.metadata.get("tool_calls"):  # no tool call, no change to confirm
            call_changes_confirm(
                organization=organization, conversation=conversation, message=message
            )
    reply_store(
        conversation=conversation,
        message=message,
        outcome=outcome,
        text=step.say,
        metadata={**metadata, "voice": step.as_metadata()},
        fell_back=fell_back,
    )
    return step


def _person_step(organization: Organization, said: str, *, turn: int) -> VoiceStep:
    """Put the caller through to the office phone, or take a message for staff."""
    if organization.phone:
        # "You can also call us at ..." is for a text; the caller is being put through.
        said = _CALL_US.sub("", said).strip()
        connecting = "I'll connect you with our team now."
        return VoiceStep(
            say=f"{said} {connecting}".strip(), then=Then.DIAL, dial=organization.phone
        )
    return VoiceStep(say=said, then=Then.MESSAGE, turn=turn)


def _replayed(message: Message) -> VoiceStep:
    reply = message_reply(message=message)
    if reply is None:
        return VoiceStep(
            say=UNCLEAR_PROMPT, then=Then.GATHER, turn=int(message.metadata.get("turn") or 0) + 1
        )
    return VoiceStep.from_metadata(reply.content, (reply.metadata or {}).get("voice"))


def _fallback(
    *, organization: Organization, conversation: Conversation, message: Message, error: Exception
) -> VoiceStep:
    reply = fallback_answer(
        organization=organization, conversation=conversation, message=message, error=error
    )
    said = speech_text(reply.content) if reply is not None else ""
    return _person_step(organization, said, turn=int((message.metadata or {}).get("turn") or 0) + 1)


def call_status_record(
    *, organization: Organization, call_sid: str, status: str, duration: int | None
) -> bool:
    """Record how the call ended and close its conversation; True when this changed it.

    Only the first final status counts: a repeated or late callback (a 'ringing' after
    'completed') changes nothing.
    """
    scope_required(organization)
    final = FINAL_STATUSES.get(status)
    conversation = call_conversation(organization=organization, call_sid=call_sid)
    if final is None or conversation is None:
        return False
    now = timezone.now()
    changed = Conversation.objects.filter(
        pk=conversation.pk, call_status=Conversation.Status.ONGOING
    ).update(call_status=final, end_timestamp=now, duration_seconds=duration, updated_at=now)
    step_log("status", organization, channel="voice", conversation=conversation.pk, status=status)
    return bool(changed)
