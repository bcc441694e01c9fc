import logging

import pytest

from lexi.log import MaskingFormatter, phone_numbers_mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from +18504036622 to +16195550142", "from +*********22 to +*********42"),
        ("call (850) 403-6622 now", "call (***) ***-**22 now"),
        (
            "Key (organization_id, phone)=(7, +16195551234)",
            "Key (organization_id, phone)=(7, +*********34)",
        ),
    ],
)
def test_phone_numbers_are_masked(text, expected):
    assert phone_numbers_mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "conversation 12345 took 15 ms",
        "organization 6d1b3a52-8f3e-4c1a-9d0e-5a1b2c3d4e01",
        "2026-11-25 13:40:18,123",
        "MessageSid SM0123456789abcdef0123456789abcdef",
    ],
)
def test_ids_times_and_sids_are_left_alone(text):
    assert phone_numbers_mask(text) == text


def _record(level: int, message: str, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("t", level, __file__, 1, message, (), exc_info)


def test_warnings_and_tracebacks_are_masked_but_debug_is_not():
    formatter = MaskingFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("duplicate phone +16195551234")
    except ValueError as exc:
        error = formatter.format(_record(logging.ERROR, "failed for +16195551234", exc))
    assert "6195551234" not in error
    assert "+*********34" in error
    debug = formatter.format(_record(logging.DEBUG, "inbound from +16195551234"))
    assert "+16195551234" in debug
