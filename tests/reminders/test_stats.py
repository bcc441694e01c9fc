"""The statistics page counts reminders sent, confirmations, what patients did from a reminder,
and no-shows; another clinic's figures stay out."""

from datetime import UTC, date, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Appointment
from console.stats import period_for, statistics_for_period
from tenants.scoping import tenant_scope
from tests.admin.builders import staff_user
from tests.reminders.conftest import CLINIC_NUMBER, NEW_YORK, PATIENT_PHONE, at
from tests.twilio_helpers import signed_post, twilio_payload

pytestmark = pytest.mark.django_db

VISIT = at(NEW_YORK, 2026, 12, 10, 10, 0)


def _say(client: Any, body: str) -> None:
    response = signed_post(client, twilio_payload(Body=body, From=PATIENT_PHONE, To=CLINIC_NUMBER))
    assert response.status_code == 200


def test_reminder_figures_on_the_statistics_page(client, clinic, book, sweep, settings):
    settings.LEXI_ENGINE = "offline"
    confirmed = book(VISIT)
    cancelled = book(VISIT + timedelta(hours=3))
    no_show = book(VISIT - timedelta(days=3))
    with tenant_scope(clinic):
        Appointment.objects.filter(pk=no_show.pk).update(status=Appointment.Status.NO_SHOW)
    sweep(VISIT - timedelta(days=2))
    with time_machine.travel(VISIT - timedelta(days=2, minutes=-1), tick=False):
        _say(client, "C")  # answers the last reminder: the later visit's
    sweep(VISIT + timedelta(hours=3) - timedelta(days=2))
    with time_machine.travel(VISIT - timedelta(days=2, hours=-3, minutes=-1), tick=False):
        _say(client, "cancel visit")
        _say(client, "yes")

    with tenant_scope(clinic):
        assert Appointment.objects.get(pk=cancelled.pk).status == Appointment.Status.CANCELLED
        assert Appointment.objects.get(pk=confirmed.pk).confirmed_at is not None
        period = period_for(key="30d", today=date(2026, 12, 10), tz=NEW_YORK)
        figures = statistics_for_period(period=period).reminders
    assert figures is not None
    assert figures.sent == 2
    assert figures.reminded_visits == 2
    assert figures.confirmed_visits == 1
    assert figures.confirmation_percent == 50
    assert figures.cancelled_from_reminders == 1
    assert figures.rescheduled_from_reminders == 0
    assert figures.no_shows == 1

    staff = Client()
    staff.force_login(staff_user(clinic, "front-desk"))
    with time_machine.travel(VISIT.astimezone(UTC), tick=False):
        page = staff.get("/admin/statistics/?period=30d").content.decode()
    assert "Reminders sent (2 visits)" in page
    assert "Confirmed (1 of 2 reminded visits)" in page


def test_another_clinics_reminders_are_not_counted(clinic, org_b, book, sweep):
    from tests.factories import AppointmentFactory, PhoneNumberFactory, ProviderFactory

    PhoneNumberFactory(organization=org_b, number="+16195550142")
    AppointmentFactory(
        organization=org_b,
        provider=ProviderFactory(organization=org_b),
        start=VISIT,
        time_set_at=VISIT - timedelta(7),
    )
    sweep(VISIT - timedelta(days=2))

    with tenant_scope(clinic):
        period = period_for(key="30d", today=date(2026, 12, 10), tz=NEW_YORK)
        ours = statistics_for_period(period=period).reminders
    with tenant_scope(org_b):
        theirs = statistics_for_period(period=period).reminders
    assert ours is not None
    assert theirs is not None
    assert (ours.sent, theirs.sent) == (0, 1)
