"""Lead times, the reminder text's placeholders and the words of a reply, as clinics write them."""

from datetime import UTC, datetime, time

import pytest

from reminders.planning import reminder_due, send_time
from reminders.texts import (
    CANCEL,
    CONFIRM,
    RESCHEDULE,
    lead_times_parse,
    reminder_reply_kind,
    template_validate,
)
from tests.reminders.conftest import LOS_ANGELES, NEW_YORK, at


def test_lead_times_are_read_longest_first():
    assert lead_times_parse("2h, 2d") == [2880, 120]
    assert lead_times_parse(" 1D,30m,1d ") == [1440, 30]


@pytest.mark.parametrize("value", ["", "2", "2 days", "0h", "15d", "2w", "-1h"])
def test_a_lead_time_that_is_not_one_is_refused_with_an_example(value):
    with pytest.raises(ValueError, match=r"lead time|e\.g\."):
        lead_times_parse(value)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {name}", "Unknown placeholder {name}."),
        ("Hi {first_name} {}", "Unknown placeholder {}."),
        ("Hi {first_name", "unmatched brace"),
        ("On {date:%d}", "without formats"),
        ("   ", "empty"),
    ],
)
def test_a_template_with_an_unknown_placeholder_is_refused_saying_which(template, message):
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        template_validate(template)


def test_a_template_with_known_placeholders_and_literal_braces_is_accepted():
    template_validate("{first_name}: {visit_type} with {provider}, {date} {time} at {clinic} {{x}}")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("C", CONFIRM),
        ("c", CONFIRM),
        ("Confirm!", CONFIRM),
        (" yes. ", CONFIRM),
        ("\U0001f44d", CONFIRM),
        ("\U0001f44d\U0001f3fb", CONFIRM),
        ("\U0001f44d\ufe0f \U0001f44d", CONFIRM),
        ("R", RESCHEDULE),
        ("reschedule", RESCHEDULE),
        ("Cancel visit", CANCEL),
        ("cancel my appointment please", CANCEL),
        ("can I come earlier?", ""),
        ("cancelled?", ""),
        ("yes but later", ""),
    ],
)
def test_the_words_of_a_reply_to_a_reminder(body, kind):
    assert reminder_reply_kind(body) == kind


def test_hours_before_are_elapsed_time_across_a_dst_change():
    visit = at(NEW_YORK, 2026, 3, 8, 4, 0)  # 02:00-03:00 does not exist that night
    assert reminder_due(start=visit, lead_minutes=180, tz=NEW_YORK) == datetime(
        2026, 3, 8, 5, 0, tzinfo=UTC
    )


def test_quiet_hours_move_a_late_reminder_to_the_next_morning_in_clinic_time():
    due = at(LOS_ANGELES, 2026, 10, 31, 21, 30)
    assert send_time(due=due, window_start=time(8), window_end=time(20), tz=LOS_ANGELES) == at(
        LOS_ANGELES, 2026, 11, 1, 8, 0
    )
