import pytest

from conversations.segments import GSM7, UCS2, sms_segments


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", GSM7, 1),
        ("a" * 160, GSM7, 1),
        ("a" * 161, GSM7, 2),
        ("a" * 306, GSM7, 2),
        ("a" * 307, GSM7, 3),
        ("€" * 80, GSM7, 1),  # extension characters take two septets
        ("€" * 81, GSM7, 2),
        ("é" * 160, GSM7, 1),
        ("ú" * 70, UCS2, 1),  # not in GSM 03.38
        ("ú" * 71, UCS2, 2),
        ("ú" * 134, UCS2, 2),
        ("ú" * 135, UCS2, 3),
        ("😊" * 35, UCS2, 1),  # a surrogate pair is two UCS-2 units
        ("😊" * 36, UCS2, 2),
    ],
)
def test_sms_segments_counts_parts_per_encoding(text, encoding, segments):
    count = sms_segments(text)

    assert (count.encoding, count.segments) == (encoding, segments)
