"""Running one tool call: dispatch, turning refusals into error results, the ToolCall row."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.db import transaction

from booking.errors import BookingError
from conversations.services import tool_call_log
from lexi.context import TurnContext
from lexi.tools.arguments import ToolError, arguments_parse, arguments_validate
from lexi.tools.registry import tool_for
from lexi.tools.results import ToolResult
from lexi.tools.schemas import TOOL_NAMES
from tenants.scoping import scope_required

# Named after the package, not this module: every tool call logs under one name.
logger = logging.getLogger("lexi.tools")


def _arguments_for_log(raw: dict[str, Any] | str | None) -> dict[str, Any]:
    if isinstance(raw, dict):
        return json.loads(json.dumps(raw, default=str))
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_raw": raw[:2000]}
    return value if isinstance(value, dict) else {"_raw": raw[:2000]}


def _execute(context: TurnContext, name: str, raw: dict[str, Any] | str | None) -> ToolResult:
    tool = tool_for(name)
    if tool is None:
        return ToolResult(
            name=name,
            ok=False,
            error="unknown_tool",
            message=f"There is no tool '{name}'. Tools: {', '.join(sorted(TOOL_NAMES))}.",
        )
    try:
        arguments = arguments_validate(tool.name, arguments_parse(raw))
        # A savepoint, so a failed write leaves the turn's transaction usable.
        with transaction.atomic():
            data = tool.handler(context, arguments)
    except ToolError as exc:
        return ToolResult(name=name, ok=False, error=exc.code, message=exc.message)
    except BookingError as exc:
        code = getattr(exc, "code", "") or "booking_error"
        message = getattr(exc, "message", "") or str(exc)
        return ToolResult(name=name, ok=False, error=code, message=message)
    return ToolResult(name=name, ok=True, data=data)


def tool_run(
    *,
    context: TurnContext,
    name: str,
    arguments: dict[str, Any] | str | None,
    call_id: str = "",
) -> ToolResult:
    """Run one tool for the turn and store it as a ToolCall. Never raises for the model's input.

    Unknown tools, bad JSON, invalid arguments and booking refusals come back as error results;
    anything unexpected becomes `internal_error` (logged with its traceback).
    """
    scope_required(context.organization)
    started = time.monotonic()
    try:
        result = _execute(context, name, arguments)
    except Exception:
        logger.exception("Lexi tool %s failed (conversation %s)", name, context.conversation.pk)
        result = ToolResult(
            name=name,
            ok=False,
            error="internal_error",
            message="Something went wrong on our side. Offer to have the staff follow up.",
        )
    duration_ms = int((time.monotonic() - started) * 1000)
    tool_call_log(
        conversation=context.conversation,
        message=context.message,
        name=name[:64],
        arguments=_arguments_for_log(arguments),
        result=result.as_model_payload(),
        error=result.error,
        duration_ms=duration_ms,
        call_id=call_id[:100],
        round=context.round,
        engine=context.engine,
    )
    logger.info(
        "Lexi tool %s %s in %d ms (conversation %s)",
        name,
        "ok" if result.ok else result.error,
        duration_ms,
        context.conversation.pk,
    )
    return result
