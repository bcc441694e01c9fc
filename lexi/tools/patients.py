"""The patient tools, confined to the phone number the patient is texting from."""

from __future__ import annotations

from typing import Any

from booking.models import Patient
from booking.selectors import patient_find
from booking.services import patient_register
from conversations.services import conversation_patient_name_set
from lexi.context import TurnContext
from lexi.tools.arguments import ToolError, date_parse


def patient_for_sender(context: TurnContext, patient_id: str) -> Patient:
    """The sender's patient with that id; raises ToolError for anyone else's id."""
    for patient in patient_find(organization=context.organization, phone=context.sender_phone):
        if str(patient.pk) == patient_id:
            return patient
    raise ToolError("patient_not_found", "No patient with that id on this phone number.")


def patient_name_remember(context: TurnContext, patient: Patient) -> None:
    """Name the conversation after the patient, so the staff console shows who is texting."""
    conversation_patient_name_set(
        conversation=context.conversation, name=f"{patient.first_name} {patient.last_name}"
    )


def find_patient(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    patients = patient_find(
        organization=context.organization,
        phone=context.sender_phone,
        first_name=arguments.get("first_name"),
        last_name=arguments.get("last_name"),
    )
    if len(patients) == 1:
        patient_name_remember(context, patients[0])
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


def register_patient(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    date_of_birth = date_parse(arguments["date_of_birth"], key="date_of_birth")
    patient = patient_register(
        organization=context.organization,
        first_name=arguments["first_name"],
        last_name=arguments["last_name"],
        phone=context.sender_phone,
        date_of_birth=date_of_birth,
    )
    patient_name_remember(context, patient)
    return {
        "patient_id": str(patient.pk),
        "first_name": patient.first_name,
        "last_name": patient.last_name,
    }
