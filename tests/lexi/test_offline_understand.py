"""The offline engine's reading of ordinary texting (pure functions, no database)."""

from datetime import date

import pytest

from lexi.engines.offline.dates import When, choice_pick, dob_parse, when_parse
from lexi.engines.offline.understand import (
    Intent,
    appointment_type_pick,
    info_topics,
    intent_detect,
    life_threatening,
    name_parse,
    text_normalize,
    yes_no,
)

MONDAY = date(2026, 11, 30)
TYPES = ["Cleaning", "Checkup", "Emergency exam", "Consultation"]


def when(text: str) -> When | None:
    return when_parse(text_normalize(text), today=MONDAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cancell my apointment tommorow", "cancel my appointment tomorrow"),
        ("Can I get a cleanig?", "can i get a cleaning?"),
        ("need to resched my appt", "need to reschedule my appointment"),
        ("Check-up on wensday", "checkup on wednesday"),
    ],
)
def test_normalize_fixes_typos_and_abbreviations(text: str, expected: str) -> None:
    assert text_normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I'd like to book a cleaning", Intent.BOOK),
        ("Can I make an apointment?", Intent.BOOK),
        ("do you have anything open next week for a checkup", Intent.BOOK),
        ("I need to cancell my appointment", Intent.CANCEL),
        ("I can't make it tomorrow", Intent.CANCEL),
        ("can we resched", Intent.RESCHEDULE),
        ("I need to move my appointment to friday", Intent.RESCHEDULE),
        ("My face is swollen and my tooth is killing me", Intent.EMERGENCY),
        ("my kid knocked out a tooth!!", Intent.EMERGENCY),
        ("gums bleeding a lot", Intent.EMERGENCY),
        ("my crown fell off and it's really sensitive", Intent.EMERGENCY),
        ("I lost a filling", Intent.EMERGENCY),
        ("a filling came out last night", Intent.EMERGENCY),
        ("my jaw is all swollen", Intent.EMERGENCY),
        ("my son's tooth got knocked-out at soccer", Intent.EMERGENCY),
        ("it won't stop bleeding after the extraction", Intent.EMERGENCY),
        ("I can't swallow properly since yesterday", Intent.EMERGENCY),
        ("I'd like to book a crown consultation", Intent.BOOK),
        ("I want to talk to the dentist about implants", Intent.BOOK),
        ("my filling from last year feels fine", None),
        ("Can I talk to a real person?", Intent.HUMAN),
        ("what are your hours", Intent.INFO),
        ("where are you located?", Intent.INFO),
        ("Do you take Delta insurance?", Intent.INSURANCE),
        ("how much is a cleaning?", Intent.INSURANCE),
        ("do i have a cavity?", Intent.DIAGNOSIS),
        ("when is my appointment?", Intent.APPOINTMENTS),
        ("hi", Intent.GREETING),
        ("thanks!", Intent.THANKS),
        ("never mind", Intent.STOP),
        ("what's the weather like", None),
    ],
)
def test_intent_detect(text: str, intent: Intent | None) -> None:
    assert intent_detect(text_normalize(text)) == intent


def test_info_topics_lists_every_fact_asked_for() -> None:
    assert info_topics(text_normalize("what's your address and phone number?")) == [
        "address",
        "phone",
    ]
    assert info_topics(text_normalize("are you open saturday")) == ["hours"]
    assert info_topics(text_normalize("do you have a website")) == ["website"]


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes!",
        "yep",
        "yeah",
        "ok",
        "OK",
        "sure",
        "sounds good",
        "y",
        "Perfect",
        "yes please",
        "that works",
        "go ahead",
        "k",
        "no problem",
    ],
)
def test_yes(text: str) -> None:
    assert yes_no(text_normalize(text)) is True


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "No.",
        "nope",
        "nah",
        "no, later",
        "something later",
        "n",
        "not really",
        "no thanks",
        "another day",
    ],
)
def test_no(text: str) -> None:
    assert yes_no(text_normalize(text)) is False


@pytest.mark.parametrize("text", ["maybe", "what?", "Jane"])
def test_neither_yes_nor_no(text: str) -> None:
    assert yes_no(text_normalize(text)) is None


@pytest.mark.parametrize(
    ("text", "start", "end", "part", "hour", "minute"),
    [
        ("tomorrow", date(2026, 12, 1), date(2026, 12, 1), None, None, 0),
        ("tommorow morning", date(2026, 12, 1), date(2026, 12, 1), "morning", None, 0),
        ("today", MONDAY, MONDAY, None, None, 0),
        ("next Tuesday afternoon", date(2026, 12, 8), date(2026, 12, 8), "afternoon", None, 0),
        ("Friday", date(2026, 12, 4), date(2026, 12, 4), None, None, 0),
        ("this friday at 2", date(2026, 12, 4), date(2026, 12, 4), None, 14, 0),
        ("monday", date(2026, 12, 7), date(2026, 12, 7), None, None, 0),
        ("Dec 3 at 10", date(2026, 12, 3), date(2026, 12, 3), None, 10, 0),
        ("December 3rd 10:30am", date(2026, 12, 3), date(2026, 12, 3), None, 10, 30),
        ("12/3 3pm", date(2026, 12, 3), date(2026, 12, 3), None, 15, 0),
        ("1/5", date(2027, 1, 5), date(2027, 1, 5), None, None, 0),
        ("this week", MONDAY, date(2026, 12, 6), None, None, 0),
        ("next week", date(2026, 12, 7), date(2026, 12, 13), None, None, 0),
        ("morning", None, None, "morning", None, 0),
        ("afternoons are best", None, None, "afternoon", None, 0),
        ("2pm works", None, None, None, 14, 0),
        ("10:30", None, None, None, 10, 30),
        ("the day after tomorrow", date(2026, 12, 2), date(2026, 12, 2), None, None, 0),
        ("a week from Monday", date(2026, 12, 14), date(2026, 12, 14), None, None, 0),
        ("a week from wednesday", date(2026, 12, 9), date(2026, 12, 9), None, None, 0),
        ("Monday after next", date(2026, 12, 14), date(2026, 12, 14), None, None, 0),
        ("thursday after next", date(2026, 12, 17), date(2026, 12, 17), None, None, 0),
        ("the 21st", date(2026, 12, 21), date(2026, 12, 21), None, None, 0),
        ("first thing Tuesday", date(2026, 12, 1), date(2026, 12, 1), "morning", None, 0),
        ("end of next week", date(2026, 12, 10), date(2026, 12, 12), None, None, 0),
        ("end of the week", date(2026, 12, 3), date(2026, 12, 5), None, None, 0),
        ("in two weeks", date(2026, 12, 14), date(2026, 12, 20), None, None, 0),
        ("the 15th", date(2026, 12, 15), date(2026, 12, 15), None, None, 0),
    ],
)
def test_when_parse(
    text: str,
    start: date | None,
    end: date | None,
    part: str | None,
    hour: int | None,
    minute: int,
) -> None:
    parsed = when(text)
    assert parsed is not None
    assert (parsed.start, parsed.end, parsed.part_of_day, parsed.hour, parsed.minute) == (
        start,
        end,
        part,
        hour,
        minute,
    )


def test_when_parse_after_a_time_prefers_later_slots() -> None:
    parsed = when("anytime after 3")
    assert parsed is not None
    assert (parsed.hour, parsed.time_op) == (15, "after")


def test_when_parse_asap() -> None:
    parsed = when("whatever is soonest")
    assert parsed is not None
    assert parsed.asap
    assert parsed.start is None


@pytest.mark.parametrize("text", ["hello", "yes", "Jane Smith", "a cleaning please", "10 may work"])
def test_when_parse_none_without_a_day_or_time(text: str) -> None:
    assert when(text) is None


def test_when_round_trips_through_state() -> None:
    parsed = when("next Tuesday afternoon")
    assert parsed is not None
    assert When.from_state(parsed.as_state()) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "3/14/1985",
        "03-14-1985",
        "March 14 1985",
        "march 14, 1985",
        "14 March 1985",
        "1985-03-14",
        "Mar 14th 1985",
        "my dob is 3/14/85",
        "Jane Smith 3/14/1985",
    ],
)
def test_dob_parse(text: str) -> None:
    assert dob_parse(text, today=MONDAY) == date(1985, 3, 14)


@pytest.mark.parametrize("text", ["tomorrow", "3/14", "13/45/1990", "1/1/2030", "Jane"])
def test_dob_parse_refuses_non_birthdates(text: str) -> None:
    assert dob_parse(text, today=MONDAY) is None


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("Jane Smith", "Jane", "Smith"),
        ("my name is jane smith", "Jane", "Smith"),
        ("It's Tom O'Neil, 3/14/1985", "Tom", "O'Neil"),
        ("I'm Ana", "Ana", ""),
        ("sure, Mary Ann McDonald", "Mary", "Ann McDonald"),
        ("Jane Smith, March 14 1985", "Jane", "Smith"),
        ("Lucía Fernández", "Lucía", "Fernández"),
        ("my name is josé ñúñez", "José", "Ñúñez"),
        ("Siobhan O'Brien", "Siobhan", "O'Brien"),
        ("conor o'brien", "Conor", "O'Brien"),
        ("Anna Smith-Jones", "Anna", "Smith-Jones"),
        ("maria de la cruz", "Maria", "de la Cruz"),
        ("Juan de la Cruz Fernández", "Juan", "de la Cruz Fernández"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Hope Brooks", "Hope", "Brooks"),
        ("Will May", "Will", "May"),
        ("April Sunday", "April", "Sunday"),
        ("Hope May, May 3 1990", "Hope", "May"),
        ("JOHN SMITH", "John", "Smith"),
        ("DeShawn McDonald", "DeShawn", "McDonald"),
        ("Cher", "Cher", ""),
    ],
)
def test_name_parse(text: str, first: str, last: str) -> None:
    assert name_parse(text) == (first, last)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a cleaning please", "Cleaning"),
        ("teeth cleaned", "Cleaning"),
        ("checkup", "Checkup"),
        ("just a regular exam", "Checkup"),
        ("emergency exam", "Emergency exam"),
        ("consult about implants", "Consultation"),
        ("cleanig", "Cleaning"),
        ("not sure", None),
    ],
)
def test_appointment_type_pick(text: str, expected: str | None) -> None:
    assert appointment_type_pick(text_normalize(text), types=TYPES) == expected


OPTIONS = [
    {"start": "2026-12-01T09:00:00-05:00", "provider": "Dr. Pearl"},
    {"start": "2026-12-01T10:30:00-05:00", "provider": "Dr. Lee"},
    {"start": "2026-12-02T14:00:00-05:00", "provider": "Dr. Pearl"},
]


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("the first", 0),
        ("the second one", 1),
        ("option 3", 2),
        ("3", 2),
        ("#2", 1),
        ("2pm works", 2),
        ("10:30", 1),
        ("9 please", 0),
        ("wednesday", 2),
        ("the one with dr lee", 1),
        ("the last one", 2),
        ("12/2", 2),
        ("the afternoon one", 2),
        ("tuesday at 9", 0),
    ],
)
def test_choice_pick(text: str, index: int) -> None:
    assert choice_pick(text_normalize(text), options=OPTIONS, today=MONDAY) == index


@pytest.mark.parametrize("text", ["tuesday", "4pm", "option 5", "something later", "yes"])
def test_choice_pick_none_when_ambiguous_or_absent(text: str) -> None:
    assert choice_pick(text_normalize(text), options=OPTIONS, today=MONDAY) is None


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("I'm having trouble breathing and my face is swollen", True),
        ("I can't swallow", True),
        ("it's hard to breathe", True),
        ("my jaw is swollen", False),
        ("I can breathe fine, just a toothache", False),
    ],
)
def test_trouble_breathing_or_swallowing_is_life_threatening(text: str, urgent: bool) -> None:
    assert life_threatening(text_normalize(text)) is urgent


@pytest.mark.parametrize(
    ("text", "skip_days", "skip_window"),
    [
        ("any day but Monday", [0], []),
        ("anything except fridays", [4], []),
        ("not on Wednesday please", [2], []),
        ("tomorrow, not between 11 and 2", [], [11 * 60, 14 * 60]),
        ("not from 9:30am to 11am", [], [9 * 60 + 30, 11 * 60]),
        ("monday morning", [], []),
    ],
)
def test_what_the_patient_rules_out(text: str, skip_days: list, skip_window: list) -> None:
    parsed = when(text)
    assert parsed is not None
    assert (parsed.skip_days, parsed.skip_window) == (skip_days, skip_window)
