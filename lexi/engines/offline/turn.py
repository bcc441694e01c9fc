"""What every step of the offline dialogue shares: the turn, its tools, the question asked.

The steps live in mixins by subject (patients, slots, office, appointments); `dialogue.Turn`
combines them and routes each text. They reach one another only through methods declared here
or in the mixins they inherit, so each module reads on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lexi.context import TurnContext
from lexi.engines.offline.state import State
from lexi.replies import apology_text
from lexi.tools import ToolResult, tool_run
from lexi.tools.names import ToolName

__all__ = ["OFFER_COUNT", "TurnBase", "names_list"]

OFFER_COUNT = 3

# Shorter re-asks, for when the question itself would push a reply past one SMS screen.
SHORT_PROMPTS = {
    "slot": "Which of those times works for you?",
    "appointment": "Which appointment do you mean?",
    "confirm": "Shall I go ahead?",
    "cancel_confirm": "Reply yes to cancel it or no to keep it.",
}


def names_list(names: list[str]) -> str:
    """'Ana, Leo or Mia'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass
class TurnBase:
    """One patient text handled against the saved state. Mutates `state`; the caller saves it."""

    context: TurnContext
    state: State
    tool_calls: int = 0
    flagged: bool = False
    small_talk: bool = False  # the text asked for nothing: a first reply is the bare greeting
    stalled: bool = False  # the reply only asks again: the conversation did not move
    call_911: bool = False  # life at stake: the reply starts with 911, not a greeting
    raw: str = ""  # the patient's text as written (names keep their case)
    today: date = field(init=False)

    def __post_init__(self) -> None:
        self.today = self.context.now.date()

    def flow_next(self) -> str:
        """The next question or action of the task in progress (the dialogue routes it)."""
        raise NotImplementedError

    def tool(self, name: ToolName, **arguments: Any) -> ToolResult:
        self.tool_calls += 1
        result = tool_run(context=self.context, name=name, arguments=arguments)
        if name == ToolName.HAND_OFF_TO_STAFF and result.ok:
            self.flagged = True
        return result

    def ask(self, awaiting: str, question: str) -> str:
        self.state.awaiting = awaiting
        self.state.question = question
        return question

    def reprompt(self) -> str:
        question = self.state.question
        if len(question) > 120:
            return SHORT_PROMPTS.get(self.state.awaiting, question)
        return question

    def office_phone(self) -> str:
        return self.context.organization.phone

    def trouble(self, result: ToolResult) -> str:
        """A tool failed in a way the patient cannot fix: hand over to the staff."""
        self.state.flow_reset()
        self.handoff(f"Lexi could not complete a request ({result.name}: {result.error})")
        return apology_text(self.context.organization)

    def handoff(self, reason: str, *, keep_answering: bool = False) -> bool:
        conversation = self.context.conversation
        paused_until = conversation.lexi_paused_until
        paused = paused_until is not None and paused_until > self.context.now
        if conversation.needs_attention and (paused or keep_answering):
            return True  # staff already have it; one hand-off until they clear it
        extra = {"keep_answering": True} if keep_answering else {}
        result = self.tool(ToolName.HAND_OFF_TO_STAFF, reason=reason, **extra)
        self.state.handed_off = self.state.handed_off or result.ok
        return result.ok

    def types(self) -> list[str]:
        """The office's appointment types, asked once per conversation."""
        if not self.state.types:
            result = self.tool(ToolName.GET_OFFICE_INFO)
            if result.ok:
                self.state.types = list(result.data.get("appointment_types", []))
                self.state.providers = list(result.data.get("providers", []))
        return self.state.types

    def emergency_type(self) -> str | None:
        return next((t for t in self.types() if re.search(r"emerg|urgent", t.lower())), None)
