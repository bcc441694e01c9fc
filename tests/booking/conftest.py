from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import AppointmentTypeFactory, PatientFactory, provider_with_week

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = NEW_YORK) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def hhmm(slots) -> list[str]:
    return [f"{slot.start:%H:%M}" for slot in slots]


@pytest.fixture
def sunday_noon():
    """Freeze now at Sunday 2026-05-31 12:00 New York, the day before MONDAY."""
    with time_machine.travel(local(date(2026, 5, 31), 12).astimezone(UTC), tick=False) as t:
        yield t


@pytest.fixture
def office(org_a, sunday_noon, settings):
    """Alpha Dental (New York): Dr. Pearl and Dr. Molar, Mon-Fri 8-12 and 13-17."""
    settings.BOOKING_SLOT_MINUTES = 30
    settings.BOOKING_MIN_NOTICE_MINUTES = 120
    return {
        "org": org_a,
        "pearl": provider_with_week(org_a, "Dr. Pearl"),
        "molar": provider_with_week(org_a, "Dr. Molar"),
        "cleaning": AppointmentTypeFactory.create(
            organization=org_a,
            name="Cleaning",
            duration_minutes=60,
            keywords="clean, cleaning, teeth cleaning, hygiene",
        ),
        "checkup": AppointmentTypeFactory.create(
            organization=org_a,
            name="Checkup",
            duration_minutes=30,
            keywords="checkup, check-up, exam, routine",
        ),
        "patient": PatientFactory.create(
            organization=org_a, first_name="Ann", last_name="Lee", phone="+16195550111"
        ),
    }
