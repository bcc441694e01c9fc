"""Replies said for the ear: the same words, without what only reads well on a screen."""

import ast
from pathlib import Path

import pytest

from voice.speech import speech_text, time_words

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            "You're booked: Cleaning on Tue Dec 8 at 9:30 AM with Dr. Molar.",
            "You're booked: Cleaning on Tuesday, December eighth at nine thirty in the morning "
            "with Doctor Molar.",
        ),
        (
            "I have: 1) Mon Dec 7 at 8:00 AM 2) Mon Dec 7 at 1:15 PM 3) Wed Dec 21 at 12:00 PM "
            "4) Thu Dec 22 at 5:05 PM. Which works best?",
            "I have: Monday, December seventh at eight in the morning, Monday, December seventh "
            "at one fifteen in the afternoon, or Wednesday, December twenty-first at noon. "
            "Which works best?",
        ),
        ("What's the date of birth? (e.g. 3/14/1985)", "What's the date of birth?"),
        ("See you then! 😀👍 https://example.com/x", "See you then!"),
        ("Our hours: Mon-Fri 8am-5pm.", "Our hours: Mon-Fri 8am-5pm."),
        ("Call 1) now", "Call 1) now"),  # one numbered item is not a list
    ],
)
def test_a_reply_is_said_naturally(written, said):
    assert speech_text(written) == said


@pytest.mark.parametrize(
    ("hour", "minute", "meridiem", "said"),
    [
        (9, 30, "a", "nine thirty in the morning"),
        (12, 0, "p", "noon"),
        (12, 30, "p", "twelve thirty in the afternoon"),
        (6, 5, "p", "six oh five in the evening"),
        (12, 0, "a", "midnight"),
    ],
)
def test_times_are_said_as_words(hour, minute, meridiem, said):
    assert time_words(hour, minute, meridiem) == said


def test_a_long_reply_is_cut_at_a_sentence():
    said = speech_text("Fine. " * 200)

    assert len(said) <= 600
    assert said.endswith(".")


def test_voice_imports_from_sms_only_the_outbound_path():
    imported = set()
    for path in (ROOT / "voice").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sms"):
                imported.add((path.relative_to(ROOT).as_posix(), node.module))
    assert imported == {("voice/confirmations.py", "sms.outbound")}
