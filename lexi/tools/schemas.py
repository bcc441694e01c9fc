"""The tools as the model sees them: OpenAI function schemas, also used to validate arguments."""

from __future__ import annotations

from typing import Any

from lexi.tools.names import ToolName

DEFAULT_SLOT_LIMIT = 3
MAX_SLOT_LIMIT = 10
PARTS_OF_DAY = ("morning", "afternoon", "evening")


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _schema(
    name: ToolName, description: str, properties: dict[str, Any], required: list[str]
) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name.value,
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
        ToolName.GET_OFFICE_INFO,
        "The office's name, phone, address, hours, services, policies, appointment types, "
        "providers, and today's date and time in the office's timezone. With `date`, also "
        "whether the office is open that day (holidays and closures included).",
        {"date": _string("Ask whether the office is open on this day. " + _DATE_HELP)},
        [],
    ),
    _schema(
        ToolName.FIND_PATIENT,
        "Find the patients registered with the phone number the patient is texting from. "
        "Optionally narrow by name. Several patients may share one phone.",
        {
            "first_name": _string("The patient's first name, if known."),
            "last_name": _string("The patient's last name, if known."),
        },
        [],
    ),
    _schema(
        ToolName.REGISTER_PATIENT,
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
        ToolName.LIST_APPOINTMENTS,
        "The upcoming appointments of the patients on the texting phone number.",
        {"patient_id": _string("Only this patient's appointments (an id from find_patient).")},
        [],
    ),
    _schema(
        ToolName.FIND_SLOTS,
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
        ToolName.BOOK_APPOINTMENT,
        "Book a slot that find_slots offered, for a patient on the texting phone. "
        "Only after the patient has confirmed that exact slot.",
        {
            "slot_id": _string("The slot_id find_slots returned."),
            "patient_id": _string("The patient_id from find_patient or register_patient."),
            "appointment_type": _string("The kind of visit, if it needs restating."),
            "another_visit": {
                "type": "boolean",
                "description": "True only when the patient, who already has a visit of this "
                "type within two weeks, confirmed they want another one as well (not a move).",
            },
        },
        ["slot_id", "patient_id"],
    ),
    _schema(
        ToolName.RESCHEDULE_APPOINTMENT,
        "Move an upcoming appointment to a slot that find_slots offered, after the patient "
        "confirmed it.",
        {
            "appointment_id": _string("The appointment_id from list_appointments."),
            "slot_id": _string("The new slot_id from find_slots."),
        },
        ["appointment_id", "slot_id"],
    ),
    _schema(
        ToolName.CANCEL_APPOINTMENT,
        "Cancel an upcoming appointment, after the patient confirmed they want it cancelled.",
        {
            "appointment_id": _string("The appointment_id from list_appointments."),
            "reason": _string("Why, in the patient's words, if they said."),
        },
        ["appointment_id"],
    ),
    _schema(
        ToolName.HAND_OFF_TO_STAFF,
        "Flag this conversation for the office staff: emergencies, requests for a person, "
        "anything Lexi cannot handle.",
        {
            "reason": _string("A short reason for the staff."),
            "keep_answering": {
                "type": "boolean",
                "description": "True when you go on helping the patient yourself (e.g. you "
                "offer the earliest emergency visit): staff are alerted, you are not paused.",
            },
        },
        ["reason"],
    ),
]

TOOL_NAMES: frozenset[ToolName] = frozenset(ToolName)
# Each tool's JSON-schema parameters: the arguments are validated against the same schema the
# model was shown, so the two cannot drift apart.
TOOL_PARAMETERS: dict[ToolName, dict[str, Any]] = {
    ToolName(s["function"]["name"]): s["function"]["parameters"] for s in TOOL_SCHEMAS
}
