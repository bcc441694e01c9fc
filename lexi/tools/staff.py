"""The staff tool: how Lexi hands a conversation to a person."""

from __future__ import annotations

from typing import Any

from conversations.services import conversation_flag
from lexi.context import TurnContext


def hand_off_to_staff(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    conversation_flag(conversation=context.conversation, reason=arguments["reason"])
    return {"flagged": True}
