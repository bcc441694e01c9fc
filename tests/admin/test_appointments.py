"""Appointments edited by staff obey the same no-overlap rule as Lexi's bookings."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from booking.models import Appointment
from tenants.scoping import tenant_scope
from tests.admin.builders import staff_user
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    OrganizationFactory,
    PatientFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/booking/appointment/add/"
START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _form(clinic, patient, provider, kind, start: datetime) -> dict[str, str]:
    local = start.astimezone(clinic.tzinfo)
    end = (start + timedelta(minutes=30)).astimezone(clinic.tzinfo)
    return {
        "organization": str(clinic.pk),
        "patient": str(patient.pk),
        "provider": str(provider.pk),
        "appointment_type": str(kind.pk),
        "start_0": local.strftime("%Y-%m-%d"),
        "start_1": local.strftime("%H:%M:%S"),
        "end_0": end.strftime("%Y-%m-%d"),
        "end_1": end.strftime("%H:%M:%S"),
        "status": "scheduled",
        "source": "admin",
        "notes": "",
        "cancellation_reason": "",
    }


def test_staff_cannot_book_a_provider_twice_at_the_same_time():
    clinic = OrganizationFactory.create(timezone="America/New_York")
    provider = ProviderFactory.create(organization=clinic, name="Dr. Pearl")
    kind = AppointmentTypeFactory.create(organization=clinic, duration_minutes=30)
    patient = PatientFactory.create(organization=clinic)
    AppointmentFactory.create(
        organization=clinic,
        provider=provider,
        appointment_type=kind,
        patient=patient,
        start=START,
    )
    client = Client()
    client.force_login(staff_user(clinic, "front-desk"))

    clash = client.post(
        ADD_URL, _form(clinic, patient, provider, kind, START + timedelta(minutes=15))
    )
    assert clash.status_code == 200
    assert "Dr. Pearl already has an appointment then" in clash.content.decode()
    with tenant_scope(clinic):
        assert Appointment.objects.count() == 1

    free = client.post(ADD_URL, _form(clinic, patient, provider, kind, START + timedelta(hours=1)))
    assert free.status_code == 302
    with tenant_scope(clinic):
        assert Appointment.objects.count() == 2


def test_staff_cannot_book_a_patient_in_two_chairs_at_the_same_time():
    clinic = OrganizationFactory.create(timezone="America/New_York")
    pearl = ProviderFactory.create(organization=clinic, name="Dr. Pearl")
    molar = ProviderFactory.create(organization=clinic, name="Dr. Molar")
    kind = AppointmentTypeFactory.create(organization=clinic, duration_minutes=30)
    patient = PatientFactory.create(organization=clinic, first_name="Ana", last_name="Lopez")
    AppointmentFactory.create(
        organization=clinic, provider=pearl, appointment_type=kind, patient=patient, start=START
    )
    client = Client()
    client.force_login(staff_user(clinic, "front-desk"))

    clash = client.post(ADD_URL, _form(clinic, patient, molar, kind, START + timedelta(minutes=15)))
    assert clash.status_code == 200
    assert "Ana Lopez already has an appointment then" in clash.content.decode()
    with tenant_scope(clinic):
        assert Appointment.objects.count() == 1
