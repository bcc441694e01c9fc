"""The scheduling tools: free slots, and the sender's own appointments (book, move, cancel)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from booking.models import Appointment, AppointmentType, Provider
from booking.selectors import (
    appointment_type_match,
    appointment_types_active,
    appointments_upcoming,
    providers_active,
    slots_available,
)
from booking.services import appointment_book, appointment_cancel, appointment_reschedule
from lexi.context import TurnContext
from lexi.tools.arguments import ToolError, date_parse, time_parse
from lexi.tools.patients import patient_for_sender, patient_name_remember
from lexi.tools.results import office_time, start_text
from lexi.tools.schemas import DEFAULT_SLOT_LIMIT

DEFAULT_SLOT_DAYS = 14
MAX_SLOT_DAYS = 92


def _appointment_for_sender(context: TurnContext, appointment_id: str) -> Appointment:
    appointments = appointments_upcoming(
        organization=context.organization, phone=context.sender_phone
    )
    for appointment in appointments:
        if str(appointment.pk) == appointment_id:
            return appointment
    raise ToolError(
        "appointment_not_found", "No upcoming appointment with that id for this phone number."
    )


def _appointment_type_for(context: TurnContext, text: str) -> AppointmentType:
    appointment_type = appointment_type_match(organization=context.organization, text=text)
    if appointment_type is None:
        names = [t.name for t in appointment_types_active(organization=context.organization)]
        raise ToolError(
            "unknown_appointment_type",
            f"No single appointment type matches '{text}'. The types: {', '.join(names)}.",
        )
    return appointment_type


def _provider_for(context: TurnContext, text: str) -> Provider:
    providers = list(providers_active(organization=context.organization))
    wanted = text.lower().removeprefix("dr.").removeprefix("dr ").strip()
    exact = [p for p in providers if p.name.lower() == text.lower()]
    partial = [p for p in providers if wanted and wanted in p.name.lower()]
    matches = exact or partial
    if len(matches) != 1:
        names = ", ".join(p.name for p in providers)
        raise ToolError("unknown_provider", f"No single provider matches '{text}': {names}.")
    return matches[0]


def _appointment_payload(context: TurnContext, appointment: Appointment) -> dict[str, Any]:
    start = office_time(context, appointment.start)
    return {
        "appointment_id": str(appointment.pk),
        "appointment_type": appointment.appointment_type.name,
        "provider": appointment.provider.name,
        "start": start.isoformat(),
        "end": office_time(context, appointment.end).isoformat(),
        "start_text": start_text(start),
    }


def _source_for(channel: str) -> str:
    return channel if channel in Appointment.Source.values else Appointment.Source.SMS


def list_appointments(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    if "patient_id" in arguments:
        patient = patient_for_sender(context, arguments["patient_id"])
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
                "start": office_time(context, a.start).isoformat(),
                "start_text": start_text(office_time(context, a.start)),
            }
            for a in appointments
        ]
    }


def find_slots(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    appointment_type = _appointment_type_for(context, arguments["appointment_type"])
    today = office_time(context, context.now).date()
    start_date = date_parse(arguments.get("start_date"), key="start_date") or today
    start_date = max(start_date, today)
    end_date = date_parse(arguments.get("end_date"), key="end_date") or (
        start_date + timedelta(days=DEFAULT_SLOT_DAYS - 1)
    )
    if end_date < start_date:
        raise ToolError("invalid_arguments", "'end_date' is before 'start_date' (or today).")
    end_date = min(end_date, start_date + timedelta(days=MAX_SLOT_DAYS))
    start_time = time_parse(arguments.get("start_time"), key="start_time")
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
                "start": office_time(context, slot.start).isoformat(),
                "start_text": start_text(office_time(context, slot.start)),
                "provider": slot.provider.name,
            }
            for slot in slots
        ],
    }


def book_appointment(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    patient = patient_for_sender(context, arguments["patient_id"])
    # The signed slot id carries its appointment type; `appointment_type` is only the model's
    # restatement, so it is accepted and not trusted.
    appointment = appointment_book(
        organization=context.organization,
        patient=patient,
        slot_id=arguments["slot_id"],
        source=_source_for(context.channel),
        conversation=context.conversation,
        another_visit=arguments.get("another_visit", False),
    )
    patient_name_remember(context, patient)
    return _appointment_payload(context, appointment)


def reschedule_appointment(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    appointment = _appointment_for_sender(context, arguments["appointment_id"])
    moved = appointment_reschedule(
        organization=context.organization, appointment=appointment, slot_id=arguments["slot_id"]
    )
    return _appointment_payload(context, moved)


def cancel_appointment(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    appointment = _appointment_for_sender(context, arguments["appointment_id"])
    appointment_cancel(
        organization=context.organization,
        appointment=appointment,
        reason=arguments.get("reason", ""),
    )
    return {
        "appointment_id": str(appointment.pk),
        "status": "cancelled",
        "start_text": start_text(office_time(context, appointment.start)),
    }
