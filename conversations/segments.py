"""How many SMS segments a text costs: GSM-7 (160, or 153 per part) else UCS-2 (70, or 67)."""

import math
from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The GSM 03.38 basic character set, and the extension table whose characters take two septets.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _segments(units: int, single: int, multi: int) -> int:
    if units <= single:
        return 1
    return math.ceil(units / multi)


def sms_segments(text: str) -> SegmentCount:
    """The encoding a carrier would use for `text` and the number of parts it is sent in."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return SegmentCount(GSM7, septets, _segments(septets, 160, 153))
    code_units = len(text.encode("utf-16-le")) // 2
    return SegmentCount(UCS2, code_units, _segments(code_units, 70, 67))
