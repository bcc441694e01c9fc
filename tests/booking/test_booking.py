from datetime import UTC, timedelta

import pytest
import time_machine

from booking.errors import AppointmentNotChangeable, PatientBusy, SlotInvalid, SlotTaken
from booking.models import Appointment
from booking.selectors import slots_available
from booking.services import appointment_book, appointment_cancel, appointment_reschedule
from booking.slots import slot_encode
from tenants.scoping import tenant_scope
from tests.booking.conftest import MONDAY, local
from tests.factories import ClosureFactory, ConversationFactory, PatientFactory

pytestmark = pytest.mark.django_db


def offered(office, *, appointment_type="checkup", provider="pearl", moving=None):
    """Monday's slots of one provider, keyed by local 'HH:MM'."""
    with tenant_scope(office["org"]):
        slots = slots_available(
            organization=office["org"],
            appointment_type=office[appointment_type],
            start_date=MONDAY,
            end_date=MONDAY,
            provider=office[provider],
            limit=100,
            exclude_appointment=moving,
        )
    return {f"{slot.start:%H:%M}": slot for slot in slots}


def book(office, slot_id, *, patient=None, **kwargs):
    with tenant_scope(office["org"]):
        return appointment_book(
            organization=office["org"],
            patient=patient or office["patient"],
            slot_id=slot_id,
            **kwargs,
        )


def scheduled_count(org):
    with tenant_scope(org):
        return Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count()


def test_booking_an_offered_slot_creates_a_scheduled_appointment(office):
    slot = offered(office, appointment_type="cleaning")["09:00"]
    conversation = ConversationFactory.create(organization=office["org"])
    appointment = book(office, slot.slot_id, conversation=conversation, notes="sensitive gums")
    assert appointment.status == Appointment.Status.SCHEDULED
    assert appointment.start == local(MONDAY, 9)
    assert appointment.end == local(MONDAY, 10)
    assert appointment.provider == office["pearl"]
    assert appointment.appointment_type == office["cleaning"]
    assert appointment.patient == office["patient"]
    assert appointment.source == "sms"
    assert appointment.conversation == conversation
    assert appointment.organization_id == office["org"].pk
    assert "09:00" not in offered(office, appointment_type="cleaning")


def test_a_slot_booked_by_someone_else_is_just_taken(office):
    slot = offered(office)["09:00"]
    book(office, slot.slot_id)
    other = PatientFactory.create(organization=office["org"])
    with pytest.raises(SlotTaken) as raised:
        book(office, slot.slot_id, patient=other)
    assert raised.value.code == "slot_taken"
    assert "just taken" in raised.value.message
    assert scheduled_count(office["org"]) == 1


def test_a_longer_appointment_booked_meanwhile_takes_an_overlapping_slot(office):
    half_past_nine = offered(office)["09:30"]
    nine_for_an_hour = offered(office, appointment_type="cleaning")["09:00"]
    book(office, nine_for_an_hour.slot_id)
    someone_else = PatientFactory.create(organization=office["org"])
    with pytest.raises(SlotTaken):
        book(office, half_past_nine.slot_id, patient=someone_else)
    assert scheduled_count(office["org"]) == 1


def test_a_stale_slot_in_the_past_is_refused(office):
    slot = offered(office)["09:00"]
    with time_machine.travel(local(MONDAY, 10), tick=False), pytest.raises(SlotInvalid):
        book(office, slot.slot_id)
    assert scheduled_count(office["org"]) == 0


def test_a_slot_inside_the_minimum_notice_is_refused(office):
    slot = offered(office)["09:00"]
    with time_machine.travel(local(MONDAY, 7, 30), tick=False), pytest.raises(SlotInvalid):
        book(office, slot.slot_id)
    assert scheduled_count(office["org"]) == 0


def test_a_slot_on_a_day_closed_since_it_was_offered_is_refused(office):
    slot = offered(office)["09:00"]
    ClosureFactory.create(organization=office["org"], date=MONDAY, provider=office["pearl"])
    with pytest.raises(SlotInvalid):
        book(office, slot.slot_id)
    assert scheduled_count(office["org"]) == 0


def test_a_forged_slot_id_is_refused(office):
    slot = offered(office)["09:00"]
    forged = slot.slot_id.replace(".", "-", 1)
    with pytest.raises(SlotInvalid):
        book(office, forged)
    with pytest.raises(SlotInvalid):
        book(office, "Monday 9am please")
    assert scheduled_count(office["org"]) == 0


def test_a_validly_signed_time_outside_the_schedule_is_refused(office):
    """Defence in depth: even a correctly signed id must still be an offerable time."""
    for start in (local(MONDAY, 12), local(MONDAY, 16, 30), local(MONDAY + timedelta(days=5), 9)):
        slot_id = slot_encode(
            organization_id=office["org"].pk,
            provider_id=office["pearl"].pk,
            start=start.astimezone(UTC),
            appointment_type_id=office["cleaning"].pk,
        )
        with pytest.raises(SlotInvalid):
            book(office, slot_id)
    assert scheduled_count(office["org"]) == 0


def test_a_slot_of_a_provider_deactivated_since_is_refused(office):
    slot = offered(office)["09:00"]
    office["pearl"].is_active = False
    with tenant_scope(office["org"]):
        office["pearl"].save()
    with pytest.raises(SlotInvalid):
        book(office, slot.slot_id)
    assert scheduled_count(office["org"]) == 0


def test_an_unknown_source_is_a_programming_error(office):
    slot = offered(office)["09:00"]
    with pytest.raises(ValueError, match="source"):
        book(office, slot.slot_id, source="fax")
    assert scheduled_count(office["org"]) == 0


def test_reschedule_moves_the_same_row_and_frees_the_old_time(office):
    slots = offered(office)
    appointment = book(office, slots["09:00"].slot_id)
    with tenant_scope(office["org"]):
        moved = appointment_reschedule(
            organization=office["org"], appointment=appointment, slot_id=slots["14:00"].slot_id
        )
    assert moved.pk == appointment.pk
    assert moved.start == local(MONDAY, 14)
    assert moved.status == Appointment.Status.SCHEDULED
    now_offered = offered(office)
    assert "09:00" in now_offered
    assert "14:00" not in now_offered
    book(office, slots["09:00"].slot_id, patient=PatientFactory.create(organization=office["org"]))
    assert scheduled_count(office["org"]) == 2


def test_reschedule_may_overlap_its_own_old_time_and_change_provider(office):
    appointment = book(office, offered(office, appointment_type="cleaning")["09:00"].slot_id)
    assert "09:30" not in offered(office, appointment_type="cleaning")
    half_an_hour_later = offered(office, appointment_type="cleaning", moving=appointment)["09:30"]
    with tenant_scope(office["org"]):
        later = appointment_reschedule(
            organization=office["org"], appointment=appointment, slot_id=half_an_hour_later.slot_id
        )
        other = appointment_reschedule(
            organization=office["org"],
            appointment=later,
            slot_id=offered(office, appointment_type="cleaning", provider="molar")["08:00"].slot_id,
        )
    assert later.start == local(MONDAY, 9, 30)
    assert other.provider == office["molar"]
    assert other.start == local(MONDAY, 8)


def test_reschedule_onto_a_taken_slot_changes_nothing(office):
    slots = offered(office)
    mine = book(office, slots["09:00"].slot_id)
    book(office, slots["10:00"].slot_id, patient=PatientFactory.create(organization=office["org"]))
    with tenant_scope(office["org"]), pytest.raises(SlotTaken):
        appointment_reschedule(
            organization=office["org"], appointment=mine, slot_id=slots["10:00"].slot_id
        )
    with tenant_scope(office["org"]):
        mine.refresh_from_db()
    assert mine.start == local(MONDAY, 9)
    assert mine.status == Appointment.Status.SCHEDULED


def test_cancel_frees_the_time(office):
    slot = offered(office)["09:00"]
    appointment = book(office, slot.slot_id)
    with tenant_scope(office["org"]):
        cancelled = appointment_cancel(
            organization=office["org"], appointment=appointment, reason="  feeling  better "
        )
    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancellation_reason == "feeling better"
    assert cancelled.cancelled_at is not None
    assert "09:00" in offered(office)
    again = book(office, slot.slot_id, patient=PatientFactory.create(organization=office["org"]))
    assert again.pk != appointment.pk


def test_a_cancelled_or_past_appointment_cannot_be_changed(office):
    slots = offered(office)
    cancelled = book(office, slots["09:00"].slot_id)
    with tenant_scope(office["org"]):
        appointment_cancel(organization=office["org"], appointment=cancelled)
        with pytest.raises(AppointmentNotChangeable):
            appointment_cancel(organization=office["org"], appointment=cancelled)
        with pytest.raises(AppointmentNotChangeable):
            appointment_reschedule(
                organization=office["org"], appointment=cancelled, slot_id=slots["11:00"].slot_id
            )
    past = book(office, slots["10:00"].slot_id)
    with time_machine.travel(local(MONDAY, 10, 15), tick=False), tenant_scope(office["org"]):
        with pytest.raises(AppointmentNotChangeable) as raised:
            appointment_cancel(organization=office["org"], appointment=past)
        assert raised.value.code == "appointment_not_changeable"
        past.refresh_from_db()
    assert past.status == Appointment.Status.SCHEDULED
    assert scheduled_count(office["org"]) == 1


def test_a_patient_cannot_be_in_two_chairs_at_once(office):
    book(office, offered(office, provider="pearl")["09:00"].slot_id)
    with pytest.raises(PatientBusy) as raised:
        book(office, offered(office, provider="molar")["09:00"].slot_id)
    assert raised.value.code == "patient_busy"
    assert scheduled_count(office["org"]) == 1
    book(office, offered(office, provider="molar")["09:30"].slot_id)
    assert scheduled_count(office["org"]) == 2


def test_reschedule_onto_the_patients_other_appointment_is_refused(office):
    first = book(office, offered(office, provider="pearl")["09:00"].slot_id)
    second = book(office, offered(office, provider="molar")["11:00"].slot_id)
    clash = offered(office, provider="molar")["09:00"].slot_id
    with tenant_scope(office["org"]), pytest.raises(PatientBusy):
        appointment_reschedule(organization=office["org"], appointment=second, slot_id=clash)
    with tenant_scope(office["org"]):
        second.refresh_from_db()
        moved = appointment_reschedule(
            organization=office["org"],
            appointment=first,
            slot_id=offered(office, provider="pearl", moving=first)["09:30"].slot_id,
        )
    assert second.start == local(MONDAY, 11)
    assert moved.start == local(MONDAY, 9, 30)
