"""The console: staff edits text the patient (unless the clinic turned it off), an appointment
shows its reminders and confirmation, and the reminder settings refuse unknown placeholders."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Appointment
from conversations.models import Message
from reminders.models import ReminderPolicy
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.admin.builders import staff_user
from tests.reminders.conftest import CLINIC_NUMBER, NEW_YORK, PATIENT_PHONE, at

pytestmark = pytest.mark.django_db

NOW = at(NEW_YORK, 2026, 12, 1, 9, 0)
VISIT = at(NEW_YORK, 2026, 12, 10, 10, 0)
ADD_URL = "/admin/booking/appointment/add/"


@pytest.fixture
def staff(clinic: Organization) -> Iterator[Client]:
    client = Client()
    client.force_login(staff_user(clinic, "front-desk"))
    with time_machine.travel(NOW, tick=False):
        yield client


def _form(visit: Appointment, **changes: Any) -> dict[str, str]:
    start = changes.pop("start", visit.start).astimezone(NEW_YORK)
    end = start + timedelta(hours=1)
    return {
        "organization": str(visit.organization_id),
        "patient": str(visit.patient_id),
        "provider": str(visit.provider_id),
        "appointment_type": str(visit.appointment_type_id),
        "start_0": f"{start:%Y-%m-%d}",
        "start_1": f"{start:%H:%M:%S}",
        "end_0": f"{end:%Y-%m-%d}",
        "end_1": f"{end:%H:%M:%S}",
        "status": changes.pop("status", "scheduled"),
        "source": "admin",
        "notes": "",
        "cancellation_reason": "",
    }


def _change_url(visit: Appointment) -> str:
    return f"/admin/booking/appointment/{visit.pk}/change/"


def test_staff_booking_moving_and_cancelling_each_text_the_patient(
    clinic, book, staff, outbox, django_capture_on_commit_callbacks
):
    template = book(VISIT)
    with tenant_scope(clinic):
        template.delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(ADD_URL, _form(template)).status_code == 302
    with tenant_scope(clinic):
        visit = Appointment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        moved = _form(visit, start=VISIT + timedelta(days=1))
        assert staff.post(_change_url(visit), moved).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = _form(visit, start=VISIT + timedelta(days=1), status="cancelled")
        assert staff.post(_change_url(visit), cancelled).status_code == 302

    assert [(t.from_number, t.to_number) for t in outbox] == [(CLINIC_NUMBER, PATIENT_PHONE)] * 3
    assert [t.body for t in outbox] == [
        "Alpha Dental: your cleaning with Dr. Pearl is booked for Thu Dec 10 at 10:00 AM. Reply "
        "here if you need to change it.",
        "Alpha Dental: your cleaning with Dr. Pearl has moved to Fri Dec 11 at 10:00 AM. Reply "
        "here if you need to change it.",
        "Alpha Dental: your cleaning on Fri Dec 11 at 10:00 AM is cancelled. Reply here to book "
        "a new time.",
    ]
    with tenant_scope(clinic):
        texts = list(Message.objects.order_by("pk").values_list("metadata", flat=True))
    assert [t["appointment_change"] for t in texts] == ["booked", "moved", "cancelled"]


def test_a_note_edited_by_staff_texts_nobody(clinic, book, staff, outbox):
    visit = book(VISIT)
    form = _form(visit) | {"notes": "bring x-rays"}

    assert staff.post(_change_url(visit), form).status_code == 302

    assert outbox == []


def test_a_clinic_can_turn_the_staff_change_texts_off(
    clinic, book, staff, outbox, django_capture_on_commit_callbacks
):
    with tenant_scope(clinic):
        ReminderPolicy.objects.create(organization=clinic, notify_changes=False)
    visit = book(VISIT)

    with django_capture_on_commit_callbacks(execute=True):
        moved = _form(visit, start=VISIT + timedelta(days=1))
        assert staff.post(_change_url(visit), moved).status_code == 302

    assert outbox == []
    with tenant_scope(clinic):
        assert not Message.objects.exists()


def test_a_moved_visit_loses_its_confirmation_and_gets_reminders_for_the_new_time(
    clinic, book, staff
):
    visit = book(VISIT)
    with tenant_scope(clinic):
        Appointment.objects.filter(pk=visit.pk).update(confirmed_at=NOW)

    staff.post(_change_url(visit), _form(visit, start=VISIT + timedelta(days=1)))

    with tenant_scope(clinic):
        visit.refresh_from_db()
    assert visit.confirmed_at is None
    assert visit.time_set_at == NOW


def test_the_appointment_page_shows_its_reminders_and_the_list_its_confirmation(
    clinic, book, sweep, staff
):
    visit = book(VISIT)
    sweep(VISIT - timedelta(days=2))
    with tenant_scope(clinic):
        Appointment.objects.filter(pk=visit.pk).update(confirmed_at=NOW)
    unconfirmed = book(VISIT + timedelta(days=3))

    page = staff.get(_change_url(visit)).content.decode()
    assert "2 days" in page
    assert "Sent" in page
    assert "Scheduled" in page  # the 2-hour reminder, still ahead
    confirmed = staff.get("/admin/booking/appointment/?confirmed=yes").content.decode()
    assert f"/admin/booking/appointment/{visit.pk}/change/" in confirmed
    assert f"/admin/booking/appointment/{unconfirmed.pk}/change/" not in confirmed


def test_the_reminder_text_refuses_an_unknown_placeholder(clinic, staff):
    form = {
        "organization": str(clinic.pk),
        "enabled": "on",
        "lead_times": "2d, 2h",
        "window_start": "08:00",
        "window_end": "20:00",
        "template": "Hi {first_name}, see you {when}!",
        "notify_changes": "on",
    }

    refused = staff.post("/admin/reminders/reminderpolicy/add/", form)

    assert refused.status_code == 200
    assert "Unknown placeholder {when}." in refused.content.decode()
    with tenant_scope(clinic):
        assert not ReminderPolicy.objects.exists()
    form["template"] = "Hi {first_name}, see you {date} at {time}!"
    assert staff.post("/admin/reminders/reminderpolicy/add/", form).status_code == 302
