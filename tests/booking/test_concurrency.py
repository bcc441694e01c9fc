"""Double booking is impossible on PostgreSQL, whoever writes and however fast."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking.errors import PatientBusy, SlotTaken
from booking.models import Appointment
from booking.selectors import slots_available
from booking.services import _save_or_taken, appointment_book
from tenants.scoping import tenant_scope
from tests.factories import (
    AppointmentTypeFactory,
    OrganizationFactory,
    PatientFactory,
    provider_with_week,
)

THREADS = 20


def _clinic():
    org = OrganizationFactory.create()
    provider = provider_with_week(org, "Dr. Pearl")
    checkup = AppointmentTypeFactory.create(organization=org, duration_minutes=30)
    today = timezone.localdate()
    with tenant_scope(org):
        [slot] = slots_available(
            organization=org,
            appointment_type=checkup,
            start_date=today + timedelta(days=1),
            end_date=today + timedelta(days=14),
            limit=1,
        )
    return org, provider, checkup, slot


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_booking_one_slot_make_exactly_one_appointment():
    org, _, _, slot = _clinic()
    patients = [PatientFactory.create(organization=org) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(patient):
        try:
            barrier.wait(timeout=10)
            with tenant_scope(org):
                appointment_book(organization=org, patient=patient, slot_id=slot.slot_id)
            outcome = "booked"
        except SlotTaken:
            outcome = "taken"
        except Exception as exc:
            outcome = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["booked"] + ["taken"] * (THREADS - 1)
    with tenant_scope(org):
        assert Appointment.objects.filter(start=slot.start).count() == 1


def _overlapping(org, provider, checkup, start, **kwargs):
    return Appointment(
        organization=org,
        provider=provider,
        appointment_type=checkup,
        patient=PatientFactory.create(organization=org),
        start=start,
        end=start + timedelta(minutes=45),
        **kwargs,
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_overlapping_scheduled_appointments_of_a_provider():
    org, provider, checkup, slot = _clinic()
    first = _overlapping(org, provider, checkup, slot.start)
    with tenant_scope(org):
        first.save()
        second = _overlapping(org, provider, checkup, slot.start + timedelta(minutes=30))
        with pytest.raises(SlotTaken), transaction.atomic():
            _save_or_taken(second)
        with (
            pytest.raises(IntegrityError, match="appointment_no_overlap_per_provider"),
            transaction.atomic(),
        ):
            _overlapping(org, provider, checkup, slot.start).save()
        assert Appointment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_cancelled_back_to_back_and_other_provider_appointments_may_share_time():
    org, provider, checkup, slot = _clinic()
    other = provider_with_week(org, "Dr. Molar")
    with tenant_scope(org):
        _overlapping(org, provider, checkup, slot.start).save()
        _overlapping(org, provider, checkup, slot.start, status="cancelled").save()
        _overlapping(org, other, checkup, slot.start).save()
        _overlapping(org, provider, checkup, slot.start + timedelta(minutes=45)).save()
        assert Appointment.objects.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_refuses_one_patient_in_two_chairs_at_once():
    org, provider, checkup, slot = _clinic()
    other = provider_with_week(org, "Dr. Molar")
    with tenant_scope(org):
        first = _overlapping(org, provider, checkup, slot.start)
        first.save()
        same_patient = _overlapping(org, other, checkup, slot.start + timedelta(minutes=30))
        same_patient.patient = first.patient
        with pytest.raises(PatientBusy), transaction.atomic():
            _save_or_taken(same_patient)
        same_patient.status = "cancelled"
        same_patient.save()
        assert Appointment.objects.filter(status="scheduled").count() == 1
