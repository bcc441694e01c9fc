"""Lexi's turn as every channel runs it: the reply cut to fit, or a polite fallback."""

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError

from conversations.models import Conversation, Message
from frontdesk.outcomes import AnswerUnavailable
from frontdesk.replies import fallback_text, reply_text_limit
from frontdesk.steplog import ms_since, step_log
from frontdesk.storing import fallback_store
from lexi.agent import run_turn
from lexi.engines import Engine
from tenants.models import Organization

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LexiAnswer:
    """Lexi's reply text and what to store with it."""

    text: str
    fell_back: bool
    metadata: dict[str, Any] = field(default_factory=dict)


def lexi_answer(
    *,
    organization: Organization,
    conversation: Conversation,
    message: Message,
    channel: str,
    engine: Engine,
    deadline_seconds: float | None = None,
) -> LexiAnswer:
    """Lexi's reply to `message`, cut to fit a text; an empty reply raises ValueError."""
    started = time.monotonic()
    reply = run_turn(
        conversation=conversation,
        message=message,
        engine=engine,
        deadline_seconds=deadline_seconds,
    )
    text = reply_text_limit(reply.text)
    if not text:
        raise ValueError("Lexi's turn produced an empty reply")
    step_log(
        "turn",
        organization,
        channel=channel,
        conversation=conversation.pk,
        engine=reply.engine,
        fell_back=reply.fell_back,
        flagged=reply.flagged,
        tool_calls=reply.tool_calls,
        duration_ms=ms_since(started),
    )
    return LexiAnswer(
        text=text,
        fell_back=reply.fell_back,
        metadata={
            "engine": reply.engine,
            "flagged": reply.flagged,
            "usage": reply.usage,
            "tool_calls": reply.tool_calls,
            "stalled": reply.stalled,
        },
    )


def fallback_answer(
    *,
    organization: Organization,
    conversation: Conversation,
    message: Message,
    error: Exception,
    delivery_status: str = "",
    answered: list[Message] | None = None,
) -> Message | None:
    """The patient gets a polite text whatever failed; staff get a flag (best effort).

    Returns the stored fallback. Raises AnswerUnavailable when the database failed storing it.
    """
    logger.error(
        "frontdesk step=failed org=%s conversation=%s error=%s",
        organization.slug,
        conversation.pk,
        type(error).__name__,
    )
    logger.debug("answer failure detail", exc_info=error)
    try:
        return fallback_store(
            conversation=conversation,
            message=message,
            text=fallback_text(organization),
            error=type(error).__name__,
            reason=f"Lexi could not answer ({type(error).__name__}); please follow up.",
            delivery_status=delivery_status,
            answered=answered,
        )
    except Exception as exc:  # the database may be what failed
        logger.error(
            "frontdesk step=fallback_not_stored org=%s conversation=%s error=%s",
            organization.slug,
            conversation.pk,
            type(exc).__name__,
        )
        if isinstance(exc, DatabaseError):
            # A reply the transcript does not hold is half an answer: let Twilio retry.
            raise AnswerUnavailable from exc
        return None
