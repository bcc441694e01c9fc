"""Lexi's tools: JSON-schema'd actions that map onto the booking services.

Both engines act only through `tool_run`. The organization, channel and the patient's phone
come from the turn's context, never from the model's arguments; ids the model sends are looked
up among the sender's own rows, so a turn can never touch another phone's or clinic's data.
Every call is stored as a ToolCall row, whatever its outcome, and failures go back to the
model as structured errors instead of exceptions.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as time_of_day
from typing import Any

from django.db import transaction

from conversations.services import conversation_flag, conversation_patient_name_set, tool_call_log
from lexi.context import TurnContext
from tenants.scoping import tenant_scope

logger = logging.getLogger(__name__)

__all__ = [
    "TOOL_NAMES",
    "TOOL_SCHEMAS",
    "ToolResult",
    "start_text",
    "tool_run",
]

DEFAULT_SLOT_LIMIT = 3
MAX_SLOT_LIMIT = 10
DEFAULT_SLOT_DAYS = 14
MAX_SLOT_DAYS = 92
MAX_STRING = 200
MAX_REASON = 300
PARTS_OF_DAY = ("morning", "afternoon", "evening")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass
class ToolResult:
    """What one tool call produced. `error` is a stable code; `message` explains it."""

    name: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    message: str = ""

    def as_model_payload(self) -> dict[str, Any]:
        """What goes back to the model: the data, or the error code and its explanation."""
        if self.ok:
            return self.data
        return {"error": self.error, "message": self.message}


class ToolError(Exception):
    """A refusal the model should read and recover from (bad input, nothing found...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def start_text(dt: datetime, *, tz: tzinfo | None = None) -> str:
    """'Tue Dec 1 at 10:00 AM': how Lexi says a time by SMS (in `tz` when given)."""
    local = dt.astimezone(tz) if tz is not None else dt
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{local:%a} {local:%b} {local.day} at {hour}:{local:%M} {meridiem}"


# --- schemas -------------------------------------------------------------------------------


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _schema(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


_DATE_HELP = "A date as YYYY-MM-DD, in the office's timezone."

TOOL_SCHEMAS: list[dict[str, Any]] = [
    _schema(
        "get_office_info",
        "The office's name, phone, address, hours, services, policies, appointment types, "
        "providers, and today's date and time in the office's timezone.",
        {},
        [],
    ),
    _schema(
        "find_patient",
        "Find the patients registered with the phone number the patient is texting from. "
        "Optionally narrow by name. Several patients may share one phone.",
        {
            "first_name": _string("The patient's first name, if known."),
            "last_name": _string("The patient's last name, if known."),
        },
        [],
    ),
    _schema(
        "register_patient",
        "Register a new patient under the phone number the patient is texting from. "
        "Ask for first name, last name and date of birth first.",
        {
            "first_name": _string("First name."),
            "last_name": _string("Last name."),
            "date_of_birth": _string("Date of birth as YYYY-MM-DD."),
        },
        ["first_name", "last_name", "date_of_birth"],
    ),
    _schema(
        "list_appointments",
        "The upcoming appointments of the patients on the texting phone number.",
        {"patient_id": _string("Only this patient's appointments (an id from find_patient).")},
        [],
    ),
    _schema(
        "find_slots",
        "Free appointment slots. Offer only slots this returns; never invent availability.",
        {
            "appointment_type": _string(
                "The kind of visit, e.g. 'cleaning', 'exam', 'emergency' (a type name or keyword)."
            ),
            "start_date": _string(f"First day to search (default today). {_DATE_HELP}"),
            "end_date": _string(f"Last day to search (default two weeks on). {_DATE_HELP}"),
            "part_of_day": {
                "type": "string",
                "enum": list(PARTS_OF_DAY),
                "description": "Only slots in this part of the day.",
            },
            "start_time": _string(
                "Only slots starting at or after this local time, on every day searched, "
                "as HH:MM (24-hour), e.g. '11:00' for 'Thursday at 11' or later."
            ),
            "provider": _string("Only this provider (a name from get_office_info)."),
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_SLOT_LIMIT,
                "description": f"How many slots to return (default {DEFAULT_SLOT_LIMIT}).",
            },
        },
        ["appointment_type"],
    ),
    _schema(
        "book_appointment",
        "Book a slot that find_slots offered, for a patient on the texting phone. "
        "Only after the patient has confirmed that exact slot.",
        {
            "slot_id": _string("The slot_id find_slots returned."),
            "patient_id": _string("The patient_id from find_patient or register_patient."),
            "appointment_type": _string("The kind of visit, if it needs restating."),
        },
        ["slot_id", "patient_id"],
    ),
    _schema(
        "reschedule_appointment",
        "Move an upcoming appointment to a slot that find_slots offered, after the patient "
        "confirmed it.",
        {
            "appointment_id": _string("The appointment_id from list_appointments."),
            "slot_id": _string("The new slot_id from find_slots."),
        },
        ["appointment_id", "slot_id"],
    ),
    _schema(
        "cancel_appointment",
        "Cancel an upcoming appointment, after the patient confirmed they want it cancelled.",
        {
            "appointment_id": _string("The appointment_id from list_appointments."),
            "reason": _string("Why, in the patient's words, if they said."),
        },
        ["appointment_id"],
    ),
    _schema(
        "hand_off_to_staff",
        "Flag this conversation for the office staff: emergencies, requests for a person, "
        "anything Lexi cannot handle.",
        {"reason": _string("A short reason for the staff.")},
        ["reason"],
    ),
]

TOOL_NAMES: frozenset[str] = frozenset(s["function"]["name"] for s in TOOL_SCHEMAS)
_PARAMETERS: dict[str, dict[str, Any]] = {
    s["function"]["name"]: s["function"]["parameters"] for s in TOOL_SCHEMAS
}


# --- argument parsing ------------------------------------------------------------------------


def _arguments_parse(raw: dict[str, Any] | str | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ToolError("invalid_json", "The arguments are not valid JSON.") from exc
    else:
        value = raw
    if not isinstance(value, dict):
        raise ToolError("invalid_arguments", "The arguments must be a JSON object.")
    return value


def _arguments_validate(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Check the arguments against the tool's schema; returns them with strings stripped."""
    schema = _PARAMETERS[name]
    properties: dict[str, Any] = schema["properties"]
    problems = [f"unknown argument '{key}'" for key in arguments if key not in properties]
    clean: dict[str, Any] = {}
    invalid: set[str] = set()
    for key, spec in properties.items():
        if key not in arguments or arguments[key] is None:
            continue
        value = arguments[key]
        invalid.add(key)  # until it passes
        if spec["type"] == "string":
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)  # models often send numeric ids unquoted
            if not isinstance(value, str):
                problems.append(f"'{key}' must be a string")
                continue
            value = value.strip()
            if not value:
                invalid.discard(key)  # reported as missing if required
                continue
            limit = MAX_REASON if key == "reason" else MAX_STRING
            if len(value) > limit:
                problems.append(f"'{key}' is longer than {limit} characters")
                continue
            if "enum" in spec and value.lower() not in spec["enum"]:
                problems.append(f"'{key}' must be one of {', '.join(spec['enum'])}")
                continue
            clean[key] = value.lower() if "enum" in spec else value
            invalid.discard(key)
        elif spec["type"] == "integer":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"'{key}' must be an integer")
                continue
            if not spec.get("minimum", value) <= value <= spec.get("maximum", value):
                problems.append(f"'{key}' must be between {spec['minimum']} and {spec['maximum']}")
                continue
            clean[key] = value
            invalid.discard(key)
    for key in schema["required"]:
        if key not in clean and key not in invalid:
            problems.append(f"'{key}' is required")
    if problems:
        raise ToolError("invalid_arguments", "; ".join(problems) + ".")
    return clean


def _date_parse(value: str | None, *, key: str) -> date | None:
    if value is None:
        return None
    if not _DATE_RE.match(value):
        raise ToolError("invalid_arguments", f"'{key}' must be a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ToolError("invalid_arguments", f"'{key}' is not a real date.") from exc


def _time_parse(value: str | None, *, key: str) -> time_of_day | None:
    if value is None:
        return None
    match = _TIME_RE.match(value)
    if match is None:
        raise ToolError("invalid_arguments", f"'{key}' must be a time as HH:MM (24-hour).")
    return time_of_day(int(match[1]), int(match[2]))


# --- lookups confined to the sender's phone ------------------------------------------------


def _patient_for_sender(context: TurnContext, patient_id: str) -> Any:
    from booking.selectors import patient_find

    for patient in patient_find(organization=context.organization, phone=context.sender_phone):
        if str(patient.pk) == patient_id:
            return patient
    raise ToolError("patient_not_found", "No patient with that id on this phone number.")


def _appointment_for_sender(context: TurnContext, appointment_id: str) -> Any:
    from booking.selectors import appointments_upcoming

    appointments = appointments_upcoming(
        organization=context.organization, phone=context.sender_phone
    )
    for appointment in appointments:
        if str(appointment.pk) == appointment_id:
            return appointment
    raise ToolError(
        "appointment_not_found", "No upcoming appointment with that id for this phone number."
    )


def _appointment_type_for(context: TurnContext, text: str) -> Any:
    from booking.selectors import appointment_type_match, appointment_types_active

    appointment_type = appointment_type_match(organization=context.organization, text=text)
    if appointment_type is None:
        names = [t.name for t in appointment_types_active(organization=context.organization)]
        raise ToolError(
            "unknown_appointment_type",
            f"No single appointment type matches '{text}'. The types: {', '.join(names)}.",
        )
    return appointment_type


def _provider_for(context: TurnContext, text: str) -> Any:
    from booking.selectors import providers_active

    providers = list(providers_active(organization=context.organization))
    wanted = text.lower().removeprefix("dr.").removeprefix("dr ").strip()
    exact = [p for p in providers if p.name.lower() == text.lower()]
    partial = [p for p in providers if wanted and wanted in p.name.lower()]
    matches = exact or partial
    if len(matches) != 1:
        names = ", ".join(p.name for p in providers)
        raise ToolError("unknown_provider", f"No single provider matches '{text}': {names}.")
    return matches[0]


def _local(context: TurnContext, dt: datetime) -> datetime:
    return dt.astimezone(context.organization.tzinfo)


def _appointment_payload(context: TurnContext, appointment: Any) -> dict[str, Any]:
    start = _local(context, appointment.start)
    return {
        "appointment_id": str(appointment.pk),
        "appointment_type": appointment.appointment_type.name,
        "provider": appointment.provider.name,
        "start": start.isoformat(),
        "start_text": start_text(start),
    }


# --- the tools -------------------------------------------------------------------------------


def _get_office_info(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.selectors import appointment_types_active, providers_active

    org = context.organization
    now = _local(context, context.now)
    return {
        "name": org.name,
        "phone": org.phone,
        "address": org.address,
        "website": org.website,
        "office_hours": org.office_hours,
        "services": org.services,
        "policies": org.policies,
        "timezone": org.timezone,
        "today": now.date().isoformat(),
        "now": now.isoformat(timespec="minutes"),
        "appointment_types": [t.name for t in appointment_types_active(organization=org)],
        "providers": [p.name for p in providers_active(organization=org)],
    }


def _find_patient(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.selectors import patient_find

    patients = patient_find(
        organization=context.organization,
        phone=context.sender_phone,
        first_name=arguments.get("first_name"),
        last_name=arguments.get("last_name"),
    )
    if len(patients) == 1:
        _patient_name_remember(context, patients[0])
    return {
        "patients": [
            {
                "patient_id": str(p.pk),
                "first_name": p.first_name,
                "last_name": p.last_name,
                "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
            }
            for p in patients
        ]
    }


def _patient_name_remember(context: TurnContext, patient: Any) -> None:
    conversation_patient_name_set(
        conversation=context.conversation, name=f"{patient.first_name} {patient.last_name}"
    )


def _register_patient(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.services import patient_register

    date_of_birth = _date_parse(arguments["date_of_birth"], key="date_of_birth")
    patient = patient_register(
        organization=context.organization,
        first_name=arguments["first_name"],
        last_name=arguments["last_name"],
        phone=context.sender_phone,
        date_of_birth=date_of_birth,
    )
    _patient_name_remember(context, patient)
    return {
        "patient_id": str(patient.pk),
        "first_name": patient.first_name,
        "last_name": patient.last_name,
    }


def _list_appointments(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.selectors import appointments_upcoming

    if "patient_id" in arguments:
        patient = _patient_for_sender(context, arguments["patient_id"])
        appointments = appointments_upcoming(organization=context.organization, patient=patient)
    else:
        appointments = appointments_upcoming(
            organization=context.organization, phone=context.sender_phone
        )
    return {
        "appointments": [
            {
                "appointment_id": str(a.pk),
                "patient_id": str(a.patient_id),
                "patient_name": a.patient.full_name,
                "appointment_type": a.appointment_type.name,
                "provider": a.provider.name,
                "start": _local(context, a.start).isoformat(),
                "start_text": start_text(_local(context, a.start)),
            }
            for a in appointments
        ]
    }


def _find_slots(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.selectors import slots_available

    appointment_type = _appointment_type_for(context, arguments["appointment_type"])
    today = _local(context, context.now).date()
    start_date = _date_parse(arguments.get("start_date"), key="start_date") or today
    start_date = max(start_date, today)
    end_date = _date_parse(arguments.get("end_date"), key="end_date") or (
        start_date + timedelta(days=DEFAULT_SLOT_DAYS - 1)
    )
    if end_date < start_date:
        raise ToolError("invalid_arguments", "'end_date' is before 'start_date' (or today).")
    end_date = min(end_date, start_date + timedelta(days=MAX_SLOT_DAYS))
    start_time = _time_parse(arguments.get("start_time"), key="start_time")
    provider = _provider_for(context, arguments["provider"]) if "provider" in arguments else None
    slots = slots_available(
        from_time=start_time,
        limit=arguments.get("limit", DEFAULT_SLOT_LIMIT),
        organization=context.organization,
        appointment_type=appointment_type,
        start_date=start_date,
        end_date=end_date,
        provider=provider,
        part_of_day=arguments.get("part_of_day"),
    )
    return {
        "appointment_type": appointment_type.name,
        "slots": [
            {
                "slot_id": slot.slot_id,
                "start": _local(context, slot.start).isoformat(),
                "start_text": start_text(_local(context, slot.start)),
                "provider": slot.provider.name,
            }
            for slot in slots
        ],
    }


def _source_for(channel: str) -> str:
    from booking.models import Appointment

    return channel if channel in Appointment.Source.values else Appointment.Source.SMS


def _book_appointment(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.services import appointment_book

    patient = _patient_for_sender(context, arguments["patient_id"])
    # The signed slot id carries its appointment type; `appointment_type` is only the model's
    # restatement, so it is accepted and not trusted.
    appointment = appointment_book(
        organization=context.organization,
        patient=patient,
        slot_id=arguments["slot_id"],
        source=_source_for(context.channel),
        conversation=context.conversation,
    )
    _patient_name_remember(context, patient)
    return _appointment_payload(context, appointment)


def _reschedule_appointment(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.services import appointment_reschedule

    appointment = _appointment_for_sender(context, arguments["appointment_id"])
    moved = appointment_reschedule(
        organization=context.organization, appointment=appointment, slot_id=arguments["slot_id"]
    )
    return _appointment_payload(context, moved)


def _cancel_appointment(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    from booking.services import appointment_cancel

    appointment = _appointment_for_sender(context, arguments["appointment_id"])
    appointment_cancel(
        organization=context.organization,
        appointment=appointment,
        reason=arguments.get("reason", ""),
    )
    return {
        "appointment_id": str(appointment.pk),
        "status": "cancelled",
        "start_text": start_text(_local(context, appointment.start)),
    }


def _hand_off_to_staff(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    conversation_flag(conversation=context.conversation, reason=arguments["reason"])
    return {"flagged": True}


_HANDLERS: dict[str, Callable[[TurnContext, dict[str, Any]], dict[str, Any]]] = {
    "get_office_info": _get_office_info,
    "find_patient": _find_patient,
    "register_patient": _register_patient,
    "list_appointments": _list_appointments,
    "find_slots": _find_slots,
    "book_appointment": _book_appointment,
    "reschedule_appointment": _reschedule_appointment,
    "cancel_appointment": _cancel_appointment,
    "hand_off_to_staff": _hand_off_to_staff,
}


# --- the runner -------------------------------------------------------------------------------


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
        arguments = _arguments_validate(name, _arguments_parse(raw))
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
