"""Scripted conversations for the offline engine, and the clinic they run against.

The office: Alpha Dental (New York), Dr. Molar and Dr. Pearl, Mon-Fri 08:00-12:00 and
13:00-17:00, Cleaning (60 min), Checkup, Emergency exam and Consultation (30 min). Time is frozen
at Monday 2026-11-30 08:00 New York with two hours' notice, so the first slot is 10:00 today.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from booking.models import Appointment, AppointmentType, Patient, Provider
from conversations.models import Conversation, Message
from conversations.selectors import messages_recent
from lexi.context import TurnContext, TurnReply
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    ConversationFactory,
    PatientFactory,
    provider_with_week,
)
from tests.lexi.conftest import lexi_says, patient_says
from tests.lexi.edge import OfflineEngine

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=NEW_YORK)  # a Monday
PHONE = "+16195550142"


@dataclass
class OfflineOffice:
    organization: Organization
    providers: dict[str, Provider]
    types: dict[str, AppointmentType]


def offline_office_setup(organization: Organization) -> OfflineOffice:
    return OfflineOffice(
        organization=organization,
        providers={
            "Dr. Pearl": provider_with_week(organization, "Dr. Pearl"),
            "Dr. Molar": provider_with_week(organization, "Dr. Molar"),
        },
        types={
            name: AppointmentTypeFactory.create(
                organization=organization, name=name, duration_minutes=minutes, keywords=words
            )
            for name, minutes, words in (
                ("Cleaning", 60, "clean, hygiene"),
                ("Checkup", 30, "exam, check-up"),
                ("Emergency exam", 30, "pain, toothache, swelling"),
                ("Consultation", 30, "consult, implant, braces"),
            )
        },
    )


def local(text: str) -> datetime:
    """'2026-12-01 10:00' in New York."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


@dataclass
class Existing:
    """Rows on the sender's phone before the conversation starts."""

    patients: list[tuple[str, str]] = field(default_factory=list)
    # (patient first name, type, local start, provider)
    appointments: list[tuple[str, str, str, str]] = field(default_factory=list)


def existing_create(office: OfflineOffice, existing: Existing, phone: str = PHONE) -> None:
    patients = {
        first: PatientFactory(
            organization=office.organization, first_name=first, last_name=last, phone=phone
        )
        for first, last in existing.patients
    }
    for first, type_name, start, provider in existing.appointments:
        AppointmentFactory(
            provider=office.providers[provider],
            patient=patients[first],
            appointment_type=office.types[type_name],
            start=local(start),
        )


def converse(
    organization: Organization,
    texts: list[str],
    phone: str = PHONE,
    conversation: Conversation | None = None,
) -> tuple[Conversation, list[TurnReply]]:
    """Drive the texts through the offline engine, storing both sides as the channel does."""
    if conversation is None:
        conversation = ConversationFactory.create(
            organization=organization, from_number=phone, session_id=f"sms_{uuid.uuid4().hex}"
        )
    replies = []
    for text in texts:
        message = patient_says(conversation, text)
        with tenant_scope(organization):
            history = [
                m
                for m in messages_recent(conversation=conversation, limit=30)
                if m.pk != message.pk
            ]
        context = TurnContext(
            organization=organization,
            conversation=conversation,
            message=message,
            channel="sms",
            sender_phone=phone,
            now=timezone.now().astimezone(organization.tzinfo),
            engine="offline",
        )
        reply = OfflineEngine().reply(context=context, history=history)
        lexi_says(conversation, reply.text)
        replies.append(reply)
    return conversation, replies


def scheduled(organization: Organization, phone: str = PHONE) -> list[tuple[str, str, str, str]]:
    """(patient first name, type, local start, provider) of the phone's scheduled visits."""
    with tenant_scope(organization):
        rows = Appointment.objects.filter(
            patient__phone=phone, status=Appointment.Status.SCHEDULED
        ).select_related("patient", "appointment_type", "provider")
        return sorted(
            (
                a.patient.first_name,
                a.appointment_type.name,
                a.start.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M"),
                a.provider.name,
            )
            for a in rows
        )


def cancelled_count(organization: Organization, phone: str = PHONE) -> int:
    with tenant_scope(organization):
        return Appointment.objects.filter(
            patient__phone=phone, status=Appointment.Status.CANCELLED
        ).count()


def patients_on(organization: Organization, phone: str = PHONE) -> list[tuple[str, str, str]]:
    with tenant_scope(organization):
        return sorted(
            (p.first_name, p.last_name, p.date_of_birth.isoformat() if p.date_of_birth else "")
            for p in Patient.objects.filter(phone=phone)
        )


__all__ = [
    "NOW",
    "PHONE",
    "Existing",
    "Message",
    "OfflineOffice",
    "cancelled_count",
    "converse",
    "existing_create",
    "offline_office_setup",
    "patients_on",
    "scheduled",
]
