from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from booking.models import Appointment
from reminders.models import Reminder
from sms.sending import locmem
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    PatientFactory,
    PhoneNumberFactory,
    provider_with_week,
)
from tests.lexi.conftest import openai_server  # the scripted OpenAI-compatible server
from tests.sms.conftest import twilio_server  # the local Twilio REST server
from tests.twilio_helpers import _twilio_settings

__all__ = ["_twilio_settings", "openai_server", "twilio_server"]

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
CLINIC_NUMBER = "+18504036622"
PATIENT_PHONE = "+16195551234"


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {"LEXI_SENDER_LIMIT_PER_MINUTE": 10}


@pytest.fixture
def clinic(org_a: Organization) -> Organization:
    """Alpha Dental (New York) with its texting number."""
    PhoneNumberFactory(organization=org_a, number=CLINIC_NUMBER)
    return org_a


@pytest.fixture
def book(clinic: Organization) -> Callable[..., Appointment]:
    """book(start, booked_at=...) -> a scheduled visit for Ann Lee, booked at `booked_at`."""
    provider = provider_with_week(clinic, "Dr. Pearl")
    cleaning = AppointmentTypeFactory(organization=clinic, name="Cleaning", duration_minutes=60)
    patient = PatientFactory(
        organization=clinic, first_name="Ann", last_name="Lee", phone=PATIENT_PHONE
    )

    def make(start: datetime, *, booked_at: datetime | None = None, **kwargs: Any) -> Appointment:
        booked = booked_at or start - timedelta(days=7)
        return AppointmentFactory.create(
            organization=clinic,
            provider=provider,
            appointment_type=cleaning,
            patient=kwargs.pop("patient", patient),
            start=start,
            created_at=booked,
            time_set_at=booked,
            **kwargs,
        )

    return make


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Callable[..., str]:
    """sweep(now) runs `send_reminders --now` at that instant; the texts go out (locmem)."""

    def run(now: datetime, *extra: str) -> str:
        out = StringIO()
        with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", "--now", now.isoformat(), *extra, stdout=out)
        return out.getvalue()

    return run


@pytest.fixture
def outbox() -> list[Any]:
    locmem.outbox.clear()
    return locmem.outbox


def reminders_for(organization: Organization, appointment: Appointment) -> list[Reminder]:
    with tenant_scope(organization):
        return list(
            Reminder.objects.filter(appointment=appointment)
            .select_related("message__conversation")
            .order_by("-lead_minutes", "appointment_start")
        )


def at(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local wall time, as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)
