"""Every tool once: its name, what the model sees, the service call, and how staff read it.

Whoever needs to know about a tool (the dispatcher, the engines, the console, the statistics)
asks here; nothing else spells a tool's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from lexi.context import TurnContext
from lexi.tools import summaries
from lexi.tools.names import ToolName
from lexi.tools.office import get_office_info
from lexi.tools.patients import find_patient, register_patient
from lexi.tools.scheduling import (
    book_appointment,
    cancel_appointment,
    find_slots,
    list_appointments,
    reschedule_appointment,
)
from lexi.tools.schemas import TOOL_SCHEMAS
from lexi.tools.staff import hand_off_to_staff

__all__ = [
    "APPOINTMENT_CHANGES",
    "TOOLS",
    "Tool",
    "ToolHandler",
    "ToolName",
    "tool_for",
    "tool_summary",
]

ToolHandler = Callable[[TurnContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Tool:
    name: ToolName
    schema: dict[str, Any]  # the OpenAI function schema the model is shown
    handler: ToolHandler  # the service call, inside the turn's context
    summary: summaries.Summary  # a successful call in plain words
    failed_label: str  # a failed call, in plain words


_SCHEMAS = {ToolName(s["function"]["name"]): s for s in TOOL_SCHEMAS}


def _tool(
    name: ToolName, handler: ToolHandler, summary: summaries.Summary, failed_label: str
) -> Tool:
    return Tool(name, _SCHEMAS[name], handler, summary, failed_label)


TOOLS: Mapping[ToolName, Tool] = {
    tool.name: tool
    for tool in (
        _tool(
            ToolName.GET_OFFICE_INFO,
            get_office_info,
            summaries.office_read,
            "Reading the office information failed",
        ),
        _tool(
            ToolName.FIND_PATIENT,
            find_patient,
            summaries.patients_found,
            "Looking up the patient failed",
        ),
        _tool(
            ToolName.REGISTER_PATIENT,
            register_patient,
            summaries.registered,
            "Registering the patient failed",
        ),
        _tool(
            ToolName.LIST_APPOINTMENTS,
            list_appointments,
            summaries.appointments_listed,
            "Listing appointments failed",
        ),
        _tool(
            ToolName.FIND_SLOTS,
            find_slots,
            summaries.slots_found,
            "Looking for free slots failed",
        ),
        _tool(ToolName.BOOK_APPOINTMENT, book_appointment, summaries.booked, "Booking failed"),
        _tool(
            ToolName.RESCHEDULE_APPOINTMENT,
            reschedule_appointment,
            summaries.rescheduled,
            "Rescheduling failed",
        ),
        _tool(
            ToolName.CANCEL_APPOINTMENT,
            cancel_appointment,
            summaries.cancelled,
            "Cancelling failed",
        ),
        _tool(
            ToolName.HAND_OFF_TO_STAFF,
            hand_off_to_staff,
            summaries.handed_off,
            "Handing off to staff failed",
        ),
    )
}

# The tools that change a patient's appointments: what a failed turn must still confirm.
APPOINTMENT_CHANGES = frozenset(
    {ToolName.BOOK_APPOINTMENT, ToolName.RESCHEDULE_APPOINTMENT, ToolName.CANCEL_APPOINTMENT}
)


def tool_for(name: str) -> Tool | None:
    """The tool called `name`, or None when there is none (a model may invent names)."""
    try:
        return TOOLS[ToolName(name)]
    except ValueError:
        return None


def tool_summary(*, name: str, arguments: Any, result: Any, error: str, tz: tzinfo) -> str:
    """What a stored tool call did, e.g. 'Booked Cleaning with Dr. Pearl — Tue 1 Dec, 10:00'."""
    arguments = arguments if isinstance(arguments, dict) else {}
    result = result if isinstance(result, dict) else {}
    tool = tool_for(name)
    if error:
        return summaries.failed(tool.failed_label if tool else f"{name} failed", result, error)
    return tool.summary(arguments, result, tz) if tool else f"Used {name}"
