"""The sweep: each reminder once, at the right local time, never in quiet hours, never to
visits that moved, were cancelled or belong to a patient who opted out."""

from datetime import date, timedelta

import pytest
import time_machine

from booking.models import Appointment
from booking.services import appointment_cancel
from conversations.models import Message
from reminders.models import Reminder, ReminderPolicy
from reminders.planning import SKIP_BOOKED_INSIDE, SKIP_LATER_DUE, SKIP_QUIET_HOURS
from sms.models import SmsOptOut
from tenants.scoping import tenant_scope
from tests.reminders.conftest import (
    CLINIC_NUMBER,
    LOS_ANGELES,
    NEW_YORK,
    PATIENT_PHONE,
    at,
    reminders_for,
)

pytestmark = pytest.mark.django_db

VISIT = at(NEW_YORK, 2026, 12, 10, 10, 0)  # Thursday 10:00 in New York


def test_two_days_before_the_reminder_goes_to_the_patient_in_their_thread(
    clinic, book, sweep, outbox
):
    visit = book(VISIT)

    assert sweep(VISIT - timedelta(days=2, minutes=1)).count("0 decided") == 1
    assert outbox == []
    sweep(VISIT - timedelta(days=2))

    [text] = outbox
    assert (text.from_number, text.to_number) == (CLINIC_NUMBER, PATIENT_PHONE)
    assert text.body == (
        "Hi Ann, this is Alpha Dental: a reminder of your cleaning with Dr. Pearl on Thu Dec 10 "
        "at 10:00 AM. Reply C to confirm or R to reschedule. To cancel, reply CANCEL VISIT."
    )
    [two_days] = reminders_for(clinic, visit)  # the 2-hour one is decided when it comes due
    assert (two_days.lead_minutes, two_days.status) == (2880, Reminder.Status.SENT)
    assert two_days.message is not None
    assert two_days.message.conversation.session_id == "sms_16195551234_18504036622"
    assert two_days.message.metadata["reminder_id"] == two_days.pk
    assert two_days.message.delivery_status == "sent"


def test_both_lead_times_are_sent_once_each_even_when_the_sweep_runs_twice(
    clinic, book, sweep, outbox
):
    visit = book(VISIT)
    for now in (VISIT - timedelta(days=2), VISIT - timedelta(hours=2)):
        sweep(now)
        sweep(now)
        sweep(now + timedelta(minutes=1))

    assert [t.body.split(":")[0] for t in outbox] == ["Hi Ann, this is Alpha Dental"] * 2
    assert [r.status for r in reminders_for(clinic, visit)] == [Reminder.Status.SENT] * 2
    with tenant_scope(clinic):
        assert Message.objects.filter(metadata__has_key="reminder_id").count() == 2


@pytest.mark.parametrize("tz", [NEW_YORK, LOS_ANGELES], ids=["new_york", "los_angeles"])
@pytest.mark.parametrize(
    ("visit_day", "reminder_day"),
    [(date(2026, 3, 9), date(2026, 3, 7)), (date(2026, 11, 2), date(2026, 10, 31))],
    ids=["spring_forward", "fall_back"],
)
def test_across_a_dst_change_the_day_before_reminder_keeps_the_clock_time(
    clinic, book, sweep, outbox, tz, visit_day, reminder_day
):
    """DST starts 2026-03-08 and ends 2026-11-01 in both demo zones: 2 days before a Monday
    10:00 visit is Saturday 10:00, which is 47 or 49 hours, not 48."""
    clinic.timezone = tz.key
    clinic.save()
    visit = book(at(tz, visit_day.year, visit_day.month, visit_day.day, 10))
    due = at(tz, reminder_day.year, reminder_day.month, reminder_day.day, 10)
    assert abs(visit.start - due) != timedelta(hours=48)

    sweep(due - timedelta(minutes=1))
    assert outbox == []
    sweep(due)

    [text] = outbox
    assert "at 10:00 AM" in text.body
    [two_days] = reminders_for(clinic, visit)
    assert two_days.due_at == due
    assert two_days.status == Reminder.Status.SENT


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(clinic, book, sweep, outbox):
    visit = book(at(NEW_YORK, 2026, 12, 10, 9, 0))  # 2 hours before is 07:00

    sweep(at(NEW_YORK, 2026, 12, 10, 7, 0))
    assert outbox == []
    [_, two_hours] = reminders_for(clinic, visit)
    assert two_hours.status == Reminder.Status.SCHEDULED
    assert two_hours.due_at == at(NEW_YORK, 2026, 12, 10, 8, 0)

    sweep(at(NEW_YORK, 2026, 12, 10, 7, 59))
    assert outbox == []
    sweep(at(NEW_YORK, 2026, 12, 10, 8, 0))
    assert len(outbox) == 1
    assert reminders_for(clinic, visit)[1].status == Reminder.Status.SENT


def test_a_reminder_whose_quiet_hours_last_until_the_visit_is_skipped(clinic, book, sweep, outbox):
    with tenant_scope(clinic):
        ReminderPolicy.objects.create(organization=clinic, lead_times="2h")
    visit = book(at(NEW_YORK, 2026, 12, 10, 7, 30))  # 05:30 reminder; quiet until 08:00

    sweep(at(NEW_YORK, 2026, 12, 10, 5, 30))
    sweep(at(NEW_YORK, 2026, 12, 10, 7, 0))

    assert outbox == []
    [only] = reminders_for(clinic, visit)
    assert (only.status, only.skip_reason) == (Reminder.Status.SKIPPED, SKIP_QUIET_HOURS)


def test_a_visit_booked_inside_a_lead_time_gets_only_the_later_reminders(
    clinic, book, sweep, outbox
):
    visit = book(VISIT, booked_at=VISIT - timedelta(days=1))

    sweep(VISIT - timedelta(hours=23))
    assert outbox == []
    sweep(VISIT - timedelta(hours=2))

    assert len(outbox) == 1
    assert "reminder" in outbox[0].body
    [two_days, two_hours] = reminders_for(clinic, visit)
    assert (two_days.status, two_days.skip_reason) == (Reminder.Status.SKIPPED, SKIP_BOOKED_INSIDE)
    assert two_hours.status == Reminder.Status.SENT


def test_after_a_pause_only_the_reminder_nearest_the_visit_goes(clinic, book, sweep, outbox):
    visit = book(VISIT)

    sweep(VISIT - timedelta(hours=1))

    assert len(outbox) == 1
    [two_days, two_hours] = reminders_for(clinic, visit)
    assert (two_days.status, two_days.skip_reason) == (Reminder.Status.SKIPPED, SKIP_LATER_DUE)
    assert two_hours.status == Reminder.Status.SENT


def test_a_moved_visit_is_reminded_of_its_new_time_once(clinic, book, sweep, outbox):
    visit = book(VISIT)
    sweep(VISIT - timedelta(days=2))
    new_start = VISIT + timedelta(days=1)
    with time_machine.travel(VISIT - timedelta(days=2, hours=-1), tick=False), tenant_scope(clinic):
        Appointment.objects.filter(pk=visit.pk).update(
            start=new_start,
            end=new_start + timedelta(hours=1),
            time_set_at=VISIT - timedelta(days=2),
        )

    sweep(VISIT - timedelta(hours=2))  # the old time's 2-hour reminder: not sent
    sweep(new_start - timedelta(days=2))
    sweep(new_start - timedelta(hours=2))

    assert ["Dec 10" in t.body for t in outbox] == [True, False, False]
    assert ["Fri Dec 11 at 10:00 AM" in t.body for t in outbox] == [False, True, True]
    rows = reminders_for(clinic, visit)
    sent = [(r.lead_minutes, r.appointment_start) for r in rows if r.status == "sent"]
    assert sorted(sent) == sorted([(2880, VISIT), (120, new_start), (2880, new_start)])


def test_a_scheduled_reminder_of_a_visit_moved_meanwhile_is_not_sent(clinic, book, sweep, outbox):
    visit = book(at(NEW_YORK, 2026, 12, 10, 9, 0))
    sweep(at(NEW_YORK, 2026, 12, 10, 7, 0))  # scheduled for 08:00
    with tenant_scope(clinic):
        Appointment.objects.filter(pk=visit.pk).update(status=Appointment.Status.CANCELLED)

    sweep(at(NEW_YORK, 2026, 12, 10, 8, 0))

    assert outbox == []
    assert reminders_for(clinic, visit)[1].status == Reminder.Status.SKIPPED


def test_a_cancelled_visit_gets_no_reminder(clinic, book, sweep, outbox):
    visit = book(VISIT)
    with time_machine.travel(VISIT - timedelta(days=3), tick=False), tenant_scope(clinic):
        appointment_cancel(organization=clinic, appointment=visit)

    sweep(VISIT - timedelta(days=2))
    sweep(VISIT - timedelta(hours=2))

    assert outbox == []
    assert reminders_for(clinic, visit) == []


def test_an_opted_out_patient_gets_no_reminder(clinic, book, sweep, outbox):
    visit = book(VISIT)
    with tenant_scope(clinic):
        SmsOptOut.objects.create(organization=clinic, phone=PATIENT_PHONE, opted_out=True)

    sweep(VISIT - timedelta(days=2))

    assert outbox == []
    [two_days] = reminders_for(clinic, visit)
    assert two_days.status == Reminder.Status.SKIPPED
    assert "opted out" in two_days.skip_reason
    with tenant_scope(clinic):
        assert not Message.objects.exists()


def test_a_clinic_with_reminders_off_sends_none(clinic, book, sweep, outbox):
    with tenant_scope(clinic):
        ReminderPolicy.objects.create(organization=clinic, enabled=False)
    visit = book(VISIT)

    sweep(VISIT - timedelta(days=2))

    assert outbox == []
    assert reminders_for(clinic, visit) == []


def test_dry_run_says_what_is_due_and_changes_nothing(clinic, book, sweep, outbox):
    visit = book(VISIT)

    out = sweep(VISIT - timedelta(days=2), "--dry-run")

    assert f"appointment {visit.pk}, 2 days before" in out
    assert "send now" in out
    assert outbox == []
    assert reminders_for(clinic, visit) == []


def test_another_clinics_visits_are_reminded_from_its_own_number(
    clinic, org_b, book, sweep, outbox
):
    from tests.factories import AppointmentFactory, PhoneNumberFactory, ProviderFactory

    PhoneNumberFactory(organization=org_b, number="+16195550142")
    theirs = AppointmentFactory.create(
        organization=org_b,
        provider=ProviderFactory(organization=org_b),
        start=VISIT,
        time_set_at=VISIT - timedelta(7),
    )
    ours = book(VISIT)

    sweep(VISIT - timedelta(days=2))

    assert sorted(t.from_number for t in outbox) == ["+16195550142", CLINIC_NUMBER]
    [ours_first] = reminders_for(clinic, ours)
    [theirs_first] = reminders_for(org_b, theirs)
    assert ours_first.message is not None
    assert theirs_first.message is not None
    assert ours_first.message.conversation.organization_id == clinic.pk
    assert theirs_first.message.conversation.organization_id == org_b.pk
    assert reminders_for(clinic, theirs) == []  # B's rows are not visible in A's scope


def test_the_clock_runs_the_sweep_on_the_task_worker(
    clinic, book, outbox, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    visit = book(VISIT)

    with (
        time_machine.travel(VISIT - timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("lexi_clock", "--once")

    assert len(outbox) == 1
    assert reminders_for(clinic, visit)[0].status == Reminder.Status.SENT
