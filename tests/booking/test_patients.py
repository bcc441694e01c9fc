from datetime import date, timedelta

import pytest
import time_machine

from booking.errors import InvalidPatientData
from booking.models import Appointment, Patient
from booking.selectors import appointments_upcoming, patient_find
from booking.services import patient_register
from tenants.scoping import tenant_scope
from tests.booking.conftest import MONDAY, local
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def register(org, **kwargs):
    values = {"first_name": "ann", "last_name": "LEE", "phone": "(619) 555-0111"} | kwargs
    with tenant_scope(org):
        return patient_register(organization=org, **values)


def patients(org):
    with tenant_scope(org):
        return list(Patient.objects.all())


def test_register_normalizes_phone_and_names(org_a):
    patient = register(org_a, first_name="  mary   ann ", last_name="o'brien")
    assert patient.phone == "+16195550111"
    assert (patient.first_name, patient.last_name) == ("Mary Ann", "O'Brien")
    assert register(org_a, first_name="Jo", last_name="McDonald").last_name == "McDonald"


def test_registering_the_same_person_twice_returns_the_first(org_a):
    first = register(org_a)
    again = register(org_a, first_name="ANN", last_name="lee", date_of_birth=date(1990, 5, 1))
    assert again.pk == first.pk
    assert again.date_of_birth == date(1990, 5, 1)
    assert len(patients(org_a)) == 1


def test_a_family_shares_a_phone(org_a):
    register(org_a, first_name="Ann")
    register(org_a, first_name="Tom")
    same_name_other_birthday = register(org_a, first_name="Tom", date_of_birth=date(2015, 1, 2))
    assert len(patients(org_a)) == 2
    assert same_name_other_birthday.first_name == "Tom"
    twin = register(org_a, first_name="Tom", date_of_birth=date(2016, 1, 2))
    assert twin.pk != same_name_other_birthday.pk
    assert len(patients(org_a)) == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"first_name": "  "},
        {"last_name": ""},
        {"first_name": "123"},
        {"first_name": "x" * 101},
        {"phone": "not a phone"},
        {"date_of_birth": date(2099, 1, 1)},
        {"date_of_birth": date(1850, 1, 1)},
    ],
)
def test_register_refuses_invalid_data_and_writes_nothing(org_a, bad):
    with pytest.raises(InvalidPatientData) as raised:
        register(org_a, **bad)
    assert raised.value.code == "invalid_patient"
    assert patients(org_a) == []


def test_patient_find_matches_any_phone_format_and_names_ignoring_case(org_a):
    ann = register(org_a, first_name="Ann")
    tom = register(org_a, first_name="Tom")
    PatientFactory.create(organization=org_a, phone="+16195550999")
    with tenant_scope(org_a):
        assert patient_find(organization=org_a, phone="619.555.0111") == [ann, tom]
        assert patient_find(organization=org_a, phone="+16195550111", first_name=" tom ") == [tom]
        assert patient_find(
            organization=org_a, phone="6195550111", first_name="ANN", last_name="lee"
        ) == [ann]
        assert patient_find(organization=org_a, phone="6195550111", last_name="Smith") == []
        assert patient_find(organization=org_a, phone="garbage") == []


def test_appointments_upcoming_lists_scheduled_future_ones_soonest_first(org_a):
    ann = PatientFactory.create(organization=org_a, phone="+16195550111")
    tom = PatientFactory.create(organization=org_a, phone="+16195550111")
    stranger = PatientFactory.create(organization=org_a, phone="+16195550999")
    later = AppointmentFactory.create(
        organization=org_a, patient=ann, provider__organization=org_a, start=local(MONDAY, 10)
    )
    sooner = AppointmentFactory.create(
        organization=org_a, patient=tom, provider__organization=org_a, start=local(MONDAY, 9)
    )
    AppointmentFactory.create(
        organization=org_a,
        patient=ann,
        provider__organization=org_a,
        start=local(MONDAY, 11),
        status=Appointment.Status.CANCELLED,
    )
    AppointmentFactory.create(
        organization=org_a,
        patient=ann,
        provider__organization=org_a,
        start=local(MONDAY - timedelta(days=7), 9),
    )
    others = AppointmentFactory.create(
        organization=org_a, patient=stranger, provider__organization=org_a, start=local(MONDAY, 8)
    )
    with time_machine.travel(local(MONDAY, 7), tick=False), tenant_scope(org_a):
        assert appointments_upcoming(organization=org_a, patient=ann) == [later]
        assert appointments_upcoming(organization=org_a, phone="619-555-0111") == [sooner, later]
        assert appointments_upcoming(organization=org_a) == [others, sooner, later]
        assert appointments_upcoming(organization=org_a, phone="nonsense") == []
    with time_machine.travel(local(MONDAY, 9, 30), tick=False), tenant_scope(org_a):
        assert appointments_upcoming(organization=org_a, phone="+16195550111") == [later]
