"""The staff tool: how Lexi hands a conversation to a person."""

from __future__ import annotations

from typing import Any

from conversations.attention import conversation_hand_off
from conversations.services import conversation_flag
from lexi.context import TurnContext


def hand_off_to_staff(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    if arguments.get("keep_answering"):
        # Staff are alerted, and Lexi goes on with what she offered (an emergency visit).
        conversation_flag(conversation=context.conversation, reason=arguments["reason"])
        return {"flagged": True, "paused": False}
    # Lexi has promised a person: she stays quiet until staff answer or hand back.
    conversation_hand_off(conversation=context.conversation, reason=arguments["reason"])
    return {"flagged": True}
