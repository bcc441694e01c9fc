"""Organization A's patients, providers, types, slots and appointments are unusable in B."""

from datetime import UTC

import pytest

from booking.errors import AppointmentNotFound, PatientNotFound, SlotInvalid
from booking.models import Appointment
from booking.selectors import appointments_upcoming, patient_find, slots_available
from booking.services import appointment_book, appointment_cancel, appointment_reschedule
from booking.slots import slot_encode
from tenants.scoping import tenant_scope, unscoped
from tests.booking.conftest import MONDAY, local
from tests.factories import AppointmentTypeFactory, PatientFactory, provider_with_week

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_clinics(office, org_b):
    """Alpha (the `office`) and Bravo, each with a provider, a type and a patient."""
    return {
        "a": office,
        "b": {
            "org": org_b,
            "reyes": provider_with_week(org_b, "Dr. Reyes"),
            "checkup": AppointmentTypeFactory.create(organization=org_b, name="Checkup"),
            "patient": PatientFactory.create(organization=org_b, phone="+16195550222"),
        },
    }


def first_slot(side):
    with tenant_scope(side["org"]):
        return slots_available(
            organization=side["org"],
            appointment_type=side["checkup"],
            start_date=MONDAY,
            end_date=MONDAY,
            limit=1,
        )[0]


def all_appointments():
    with unscoped():
        return list(Appointment.objects.all())


def book_in_b(b, *, patient, slot_id):
    with tenant_scope(b["org"]):
        return appointment_book(organization=b["org"], patient=patient, slot_id=slot_id)


def test_a_slot_offered_by_a_cannot_be_booked_in_b(two_clinics):
    a, b = two_clinics["a"], two_clinics["b"]
    with pytest.raises(SlotInvalid):
        book_in_b(b, patient=b["patient"], slot_id=first_slot(a).slot_id)
    assert all_appointments() == []


def test_a_patient_of_a_cannot_be_booked_in_b(two_clinics):
    a, b = two_clinics["a"], two_clinics["b"]
    with pytest.raises(PatientNotFound) as raised:
        book_in_b(b, patient=a["patient"], slot_id=first_slot(b).slot_id)
    assert raised.value.code == "patient_not_found"
    assert all_appointments() == []


@pytest.mark.parametrize("foreign", ["provider", "appointment_type"])
def test_a_b_signed_slot_naming_as_provider_or_type_is_refused(two_clinics, foreign):
    """Even with B's signing key, A's provider or type ids resolve to nothing in B."""
    a, b = two_clinics["a"], two_clinics["b"]
    slot_id = slot_encode(
        organization_id=b["org"].pk,
        provider_id=(a["pearl"] if foreign == "provider" else b["reyes"]).pk,
        start=local(MONDAY, 9).astimezone(UTC),
        appointment_type_id=(a["checkup"] if foreign == "appointment_type" else b["checkup"]).pk,
    )
    with pytest.raises(SlotInvalid):
        book_in_b(b, patient=b["patient"], slot_id=slot_id)
    assert all_appointments() == []


def test_as_appointment_cannot_be_cancelled_or_moved_from_b(two_clinics):
    a, b = two_clinics["a"], two_clinics["b"]
    with tenant_scope(a["org"]):
        appointment = appointment_book(
            organization=a["org"], patient=a["patient"], slot_id=first_slot(a).slot_id
        )
    with tenant_scope(b["org"]):
        with pytest.raises(AppointmentNotFound):
            appointment_cancel(organization=b["org"], appointment=appointment)
        with pytest.raises(AppointmentNotFound):
            appointment_reschedule(
                organization=b["org"], appointment=appointment, slot_id=first_slot(b).slot_id
            )
    [unchanged] = all_appointments()
    assert unchanged.status == Appointment.Status.SCHEDULED
    assert unchanged.start == appointment.start
    assert unchanged.provider_id == appointment.provider_id


def test_b_reads_none_of_as_patients_or_appointments(two_clinics):
    a, b = two_clinics["a"], two_clinics["b"]
    with tenant_scope(a["org"]):
        appointment_book(organization=a["org"], patient=a["patient"], slot_id=first_slot(a).slot_id)
    with tenant_scope(b["org"]):
        assert patient_find(organization=b["org"], phone=a["patient"].phone) == []
        assert appointments_upcoming(organization=b["org"]) == []
        assert appointments_upcoming(organization=b["org"], patient=a["patient"]) == []
        assert appointments_upcoming(organization=b["org"], phone=a["patient"].phone) == []
