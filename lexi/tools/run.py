"""Running one tool call: dispatch, turning refusals into error results, the ToolCall row."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from conversations.services import tool_call_log
from lexi.context import TurnContext
from lexi.tools.arguments import ToolError, arguments_parse, arguments_validate
from lexi.tools.office import get_office_info
from lexi.tools.patients import find_patient, register_patient
from lexi.tools.results import ToolResult
from lexi.tools.scheduling import (
    book_appointment,
    cancel_appointment,
    find_slots,
    list_appointments,
    reschedule_appointment,
)
from lexi.tools.schemas import TOOL_NAMES
from lexi.tools.staff import hand_off_to_staff
from tenants.scoping import tenant_scope

# The package's name, as before it was split, so existing log filters and dashboards still match.
logger = logging.getLogger("lexi.tools")

ToolHandler = Callable[[TurnContext, dict[str, Any]], dict[str, Any]]

_HANDLERS: dict[str, ToolHandler] = {
    "get_office_info": get_office_info,
    "find_patient": find_patient,
    "register_patient": register_patient,
    "list_appointments": list_appointments,
    "find_slots": find_slots,
    "book_appointment": book_appointment,
    "reschedule_appointment": reschedule_appointment,
    "cancel_appointment": cancel_appointment,
    "hand_off_to_staff": hand_off_to_staff,
}


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
    from booking.errors import BookingError

    if name not in _HANDLERS:
        return ToolResult(
            name=name,
            ok=False,
            error="unknown_tool",
            message=f"There is no tool '{name}'. Tools: {', '.join(sorted(TOOL_NAMES))}.",
        )
    try:
        arguments = arguments_validate(name, arguments_parse(raw))
        # A savepoint, so a failed write leaves the turn's transaction usable.
        with transaction.atomic():
            data = _HANDLERS[name](context, arguments)
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
    started = time.monotonic()
    with tenant_scope(context.organization):
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
