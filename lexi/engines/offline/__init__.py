"""The offline engine: a deterministic receptionist that acts only through Lexi's tools.

The default when no model is configured, and the fallback when the model fails. Its dialogue
state lives on the conversation (`lexi_state`), never in memory, so every text can land on any
worker. understand.py and dates.py read the texting; dialogue.py routes each text to a step of
patients.py (who), slots.py (when), appointments.py (book, reschedule, cancel) or office.py
(facts, emergencies, a person), all built on turn.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

from django.utils import translation
from django.utils.translation import gettext as _

from conversations.language import ENGLISH, SPANISH
from conversations.models import Message
from lexi.context import TurnContext, TurnReply
from lexi.engines.offline.dialogue import Turn
from lexi.engines.offline.spanish import spanish_read
from lexi.engines.offline.state import state_load, state_save
from lexi.replies import SCREEN_CHARS
from tenants.models import Organization

__all__ = ["OfflineEngine", "sms_fit"]


def sms_fit(text: str, *, limit: int = SCREEN_CHARS) -> str:
    """Cut to `limit` characters at a sentence end (a safety net: replies are written short)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](\s|$)", text) if m.end() <= limit]
    return text[: ends[-1]].strip() if ends else text[: limit - 1].rstrip() + "…"


class OfflineEngine:
    name: str = Organization.Engine.OFFLINE.value
    # Its memory is `lexi_state`; the history only tells, after a model failed, whether the
    # patient was already greeted.
    uses_history = False
    answers_in_transaction = True
    falls_back = False  # it is the fallback

    def reply(self, *, context: TurnContext, history: list[Message]) -> TurnReply:
        context = replace(context, engine=self.name)
        # The conversation's language (conversations/language.py): Spanish is read into the
        # words the rules know, and answered in Spanish.
        language = (context.conversation.metadata or {}).get("language") or ENGLISH
        with translation.override(language):
            return self._reply(context=context, history=history, spanish=language == SPANISH)

    def _reply(self, *, context: TurnContext, history: list[Message], spanish: bool) -> TurnReply:
        state = state_load(conversation=context.conversation)
        turn = Turn(context=context, state=state)
        said = context.message.content
        text = turn.respond(spanish_read(said) if spanish else said)
        # A text answering a reminder is already in a conversation the clinic started; a call
        # was greeted when it was answered.
        first = not state.greeted and not context.reminder_about and context.channel != "voice"
        first = first and not turn.call_911  # 911 comes before any pleasantry
        if first and not any(m.role == Message.Role.ASSISTANT for m in history):
            text = self._greeted(context, text, small_talk=turn.small_talk)
        state.greeted = True
        state_save(conversation=context.conversation, state=state)
        return TurnReply(
            text=sms_fit(text),
            engine=self.name,
            flagged=turn.flagged,
            tool_calls=turn.tool_calls,
            stalled=turn.stalled,
        )

    @staticmethod
    def _greeted(context: TurnContext, text: str, *, small_talk: bool) -> str:
        """The first reply greets; if the first text already asked for something, it goes on."""
        intro = _("Hi! Welcome to %(clinic)s. This is Lexi.") % {
            "clinic": context.organization.name
        }
        if small_talk:
            return f"{intro} " + _("How can I help you today?")
        greeted = f"{intro} {text}"
        return greeted if len(greeted) <= SCREEN_CHARS else text
