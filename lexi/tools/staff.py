"""The staff tool: how Lexi hands a conversation to a person."""

from __future__ import annotations

from typing import Any

from conversations.attention import conversation_hand_off
from lexi.context import TurnContext


def hand_off_to_staff(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    # Lexi has promised a person: she stays quiet until staff answer or hand back.
    conversation_hand_off(conversation=context.conversation, reason=arguments["reason"])
    return {"flagged": True}
