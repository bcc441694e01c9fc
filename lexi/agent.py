"""One Lexi turn: history -> engine -> tool calls -> reply. The entry point for every channel.

The channel stores the patient's message before calling `run_turn` and Lexi's reply after it;
the turn itself stores only the tool calls. A failing model never leaves the patient without an
answer: the offline engine takes over and the conversation is flagged for staff.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from conversations.attention import conversation_hand_off
from conversations.models import Conversation, Message
from conversations.selectors import (
    messages_recent,
    replies_recent_metadata,
    tool_calls_succeeded,
)
from conversations.services import conversation_flag
from lexi.context import TurnContext, TurnReply
from lexi.engines import Engine, engine_for, offline_engine
from lexi.replies import MAX_REPLY_CHARS, apology_text
from lexi.tools.registry import APPOINTMENT_CHANGES, ToolName
from tenants.scoping import scope_required

logger = logging.getLogger(__name__)

__all__ = ["MAX_REPLY_CHARS", "run_turn"]


def _history(*, conversation: Conversation, message: Message) -> list[Message]:
    window = settings.LEXI_HISTORY_MESSAGES
    recent = messages_recent(conversation=conversation, limit=window + 1)
    return [m for m in recent if m.pk != message.pk][-window:] if window > 0 else []


def _context(
    *,
    conversation: Conversation,
    message: Message,
    engine: str,
    deadline_seconds: float | None = None,
) -> TurnContext:
    organization = conversation.organization
    return TurnContext(
        organization=organization,
        conversation=conversation,
        message=message,
        channel=conversation.channel,
        sender_phone=conversation.from_number,
        now=timezone.now().astimezone(organization.tzinfo),
        engine=engine,
        deadline_seconds=deadline_seconds,
    )


# Lexi asks again at most this many times in a row; then a person takes over.
STALLED_REPLIES_LIMIT = 2
LOOP_TEXT = gettext_lazy(
    "I'm sorry, I'm having trouble understanding. I've asked our team to follow up with you "
    "shortly."
)
LOOP_REASON = "Lexi could not understand the patient several times in a row."


def _same_words(a: str, b: str) -> bool:
    def words(text: str) -> str:
        return " ".join(re.findall(r"\w+", text.lower()))

    return words(a) == words(b)


def _stalled(reply: TurnReply, history: list[Message]) -> bool:
    """Whether the reply does not move the conversation: the engine says it only asked again,
    or (any engine) it did nothing and asks the very question it asked last time."""
    if reply.stalled:
        return True
    last = next((m for m in reversed(history) if m.role == Message.Role.ASSISTANT), None)
    return (
        reply.tool_calls == 0
        and "?" in reply.text
        and last is not None
        and _same_words(reply.text, last.content)
    )


def _loop_broken(*, conversation: Conversation, reply: TurnReply) -> TurnReply:
    """After STALLED_REPLIES_LIMIT replies that asked again, a person follows up instead."""
    recent = replies_recent_metadata(conversation=conversation, limit=STALLED_REPLIES_LIMIT)
    if len(recent) < STALLED_REPLIES_LIMIT or not all(m.get("stalled") for m in recent):
        return reply
    conversation_hand_off(conversation=conversation, reason=LOOP_REASON)
    return TurnReply(
        text=str(LOOP_TEXT),
        engine=reply.engine,
        flagged=True,
        usage=reply.usage,
        tool_calls=reply.tool_calls,
    )


def _last_resort(conversation: Conversation) -> TurnReply:
    return TurnReply(text=apology_text(conversation.organization), engine="none", fell_back=True)


def _done_before_failing(message: Message) -> str:
    """A confirmation of what the failed turn already did, or "" if it changed nothing: the
    patient must hear of a booking a model made before it failed."""
    lines = []
    for call in tool_calls_succeeded(message=message, names=APPOINTMENT_CHANGES):
        result = call.result or {}
        when = result.get("start_text", "")
        if call.name == ToolName.CANCEL_APPOINTMENT:
            lines.append(f"Your appointment on {when} is cancelled.")
        else:
            kind, provider = result.get("appointment_type", "visit"), result.get("provider", "")
            with_whom = f" with {provider}" if provider else ""
            lines.append(f"You're booked: {kind} on {when}{with_whom}.")
    if not lines:
        return ""
    return " ".join([*lines, "Our team will follow up if you need anything else."])


def _fallback(
    *, conversation: Conversation, message: Message, history: list[Message], reason: str
) -> TurnReply:
    done = _done_before_failing(message)
    if done:
        # "Our team will follow up": a promise of a person, so Lexi pauses.
        conversation_hand_off(conversation=conversation, reason=f"Lexi fell back: {reason}")
        # The offline engine knows nothing of what the model did; confirm it rather than ask
        # the patient to start over.
        return TurnReply(text=done, engine="fallback", fell_back=True, flagged=True)
    # The offline engine carries on the conversation: staff review it, Lexi keeps answering.
    conversation_flag(conversation=conversation, reason=f"Lexi fell back: {reason}")
    try:
        engine = offline_engine()
        context = _context(conversation=conversation, message=message, engine=engine.name)
        reply = engine.reply(context=context, history=history)
    except Exception:
        logger.exception("Lexi offline fallback failed (conversation %s)", conversation.pk)
        conversation_hand_off(conversation=conversation, reason=f"Lexi fell back: {reason}")
        reply = _last_resort(conversation)
    reply.fell_back = True
    reply.flagged = True
    return reply


def run_turn(
    *,
    conversation: Conversation,
    message: Message,
    engine: Engine | None = None,
    deadline_seconds: float | None = None,
) -> TurnReply:
    """Lexi's reply to `message` (already stored). Never raises for an engine's failure.

    Runs inside the conversation's tenant scope, which the channel opened (ScopeError if not).
    `engine` is the one the channel chose for this turn (`engine_for`), else chosen here.
    `deadline_seconds` shortens a model's deadline (LEXI_TURN_DEADLINE_SECONDS); past it the
    offline engine answers.
    """
    scope_required(conversation.organization_id)
    was_flagged = conversation.needs_attention
    if engine is None:
        engine = engine_for(conversation.organization)
    history = _history(conversation=conversation, message=message) if engine.uses_history else []
    context = _context(
        conversation=conversation,
        message=message,
        engine=engine.name,
        deadline_seconds=deadline_seconds,
    )
    try:
        reply = engine.reply(context=context, history=history)
    except Exception as exc:
        reason = getattr(exc, "reason", "") or type(exc).__name__
        if not engine.falls_back:
            logger.exception("Lexi offline engine failed (conversation %s)", conversation.pk)
            conversation_hand_off(conversation=conversation, reason=f"Lexi failed: {reason}")
            reply = _last_resort(conversation)
            reply.flagged = True
        else:
            logger.warning(
                "Lexi engine %s failed: %s (conversation %s); falling back",
                engine.name,
                reason,
                conversation.pk,
            )
            reply = _fallback(
                conversation=conversation, message=message, history=history, reason=reason
            )
            reply.usage = {
                **reply.usage,
                "fallback_from": {
                    "engine": engine.name,
                    "reason": reason,
                    **getattr(exc, "usage", {}),
                },
            }
    reply.stalled = _stalled(reply, history)
    if reply.stalled:
        reply = _loop_broken(conversation=conversation, reply=reply)
    if not reply.text.strip():
        conversation_hand_off(conversation=conversation, reason="Lexi had no reply")
        reply = _last_resort(conversation)
        reply.flagged = True
    if conversation.needs_attention and not was_flagged:
        reply.flagged = True
    reply.text = reply.text.strip()[:MAX_REPLY_CHARS]
    logger.info(
        "Lexi turn: engine=%s fell_back=%s flagged=%s tools=%d (conversation %s)",
        reply.engine,
        reply.fell_back,
        reply.flagged,
        reply.tool_calls,
        conversation.pk,
    )
    logger.debug("Lexi reply: %s", reply.text)
    return reply
