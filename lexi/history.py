"""The conversation so far, as chat messages for a model: bounded, with earlier tool calls.

Earlier turns' tool calls and results are rebuilt from ToolCall rows, so the ids the model saw
(slot ids, patient ids) survive between texts. The window is bounded twice: by message count
(the caller's `messages_recent`) and by a token budget, dropping whole turns oldest first so a
tool call is never separated from its result.
"""

from __future__ import annotations

import json
from typing import Any

from conversations.models import Message, ToolCall
from lexi.replies import MAX_REPLY_CHARS

__all__ = ["history_messages", "tokens_estimate"]

MAX_TOOL_RESULT_CHARS = 4000
CHARS_PER_TOKEN = 4

ChatMessage = dict[str, Any]


def tokens_estimate(messages: list[ChatMessage]) -> int:
    """A rough count (~4 characters a token): enough to keep requests flat, no tokenizer."""
    return sum(len(json.dumps(m, ensure_ascii=False)) for m in messages) // CHARS_PER_TOKEN


def _tool_calls_by_message(history: list[Message]) -> dict[int, list[ToolCall]]:
    triggers = [m.pk for m in history if m.role == Message.Role.USER]
    if not triggers:
        return {}
    grouped: dict[int, list[ToolCall]] = {}
    rows = ToolCall.objects.filter(
        conversation_id=history[0].conversation_id, message_id__in=triggers
    ).order_by("created_at", "id")
    for row in rows:
        grouped.setdefault(row.message_id, []).append(row)
    return grouped


def _call_id(row: ToolCall) -> str:
    return row.call_id or f"call_{row.pk}"


def _arguments_json(row: ToolCall) -> str:
    arguments = row.arguments if isinstance(row.arguments, dict) else {}
    if set(arguments) == {"_raw"}:
        return str(arguments["_raw"])
    return json.dumps(arguments, ensure_ascii=False)


def _tool_exchange(rows: list[ToolCall]) -> list[ChatMessage]:
    """One assistant message per (engine, round), each followed by its tool results."""
    out: list[ChatMessage] = []
    group: list[ToolCall] = []

    def flush() -> None:
        if not group:
            return
        out.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": _call_id(r),
                        "type": "function",
                        "function": {"name": r.name, "arguments": _arguments_json(r)},
                    }
                    for r in group
                ],
            }
        )
        for r in group:
            content = json.dumps(r.result if r.result is not None else {}, ensure_ascii=False)
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": _call_id(r),
                    "content": content[:MAX_TOOL_RESULT_CHARS],
                }
            )
        group.clear()

    for row in rows:
        if group and (group[0].engine, group[0].round) != (row.engine, row.round):
            flush()
        group.append(row)
    flush()
    return out


def _as_chat(message: Message) -> ChatMessage | None:
    content = (message.content or "")[:MAX_REPLY_CHARS]
    if message.role == Message.Role.USER:
        return {"role": "user", "content": content}
    if message.role == Message.Role.ASSISTANT:
        return {"role": "assistant", "content": content}
    if message.role == Message.Role.STAFF:
        return {"role": "assistant", "content": f"[Sent by the office staff] {content}"}
    return None  # system notes are for staff, not for the model


def history_messages(*, history: list[Message], token_budget: int) -> list[ChatMessage]:
    """Chat messages for `history` (oldest first), with tool exchanges, within `token_budget`."""
    tool_calls = _tool_calls_by_message(history)
    turns: list[list[ChatMessage]] = []
    for message in history:
        chat = _as_chat(message)
        if chat is None:
            continue
        if chat["role"] == "user" or not turns:
            turns.append([])
        turns[-1].append(chat)
        if message.role == Message.Role.USER:
            turns[-1].extend(_tool_exchange(tool_calls.get(message.pk, [])))
    sizes = [tokens_estimate(turn) for turn in turns]
    total = sum(sizes)
    start = 0
    while start < len(turns) and total > token_budget:
        total -= sizes[start]
        start += 1
    return [chat for turn in turns[start:] for chat in turn]
