"""Lexi's replies rendered for the ear: the same words the tools and the dialogue produced,
said the way a receptionist would say them on the phone.

Numbered options become "A, B, or C" (three at most), "Tue Dec 8" becomes "Tuesday, December
eighth", "9:30 AM" becomes "nine thirty in the morning", "Dr." becomes "Doctor"; emoji, links
and typed examples ("(e.g. 3/14/1985)") go. Nothing else is rewritten: one dialogue, two voices.
"""

import re
import unicodedata

MAX_OPTIONS = 3
MAX_SPOKEN_CHARS = 600

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}
_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
_DAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_MONTHS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}

_DATE = re.compile(
    r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"[a-z]* (\d{1,2})\b"
)
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\s*([AaPp])\.?[Mm]\b")
_OPTION = re.compile(r"(?:^|(?<=\s)|(?<=:))([1-9])[).]\s+")
_EXAMPLE = re.compile(r"\s*\((?:e\.g\.|like|for example)[^)]*\)", re.IGNORECASE)
_LINK = re.compile(r"https?://\S+")


def number_words(n: int) -> str:
    """0-59 in words, as a time's minutes are said."""
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def ordinal_words(n: int) -> str:
    """1-31 as an ordinal: "eighth", "twenty-first"."""
    if n <= 20:
        return _ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    if ones == 0:
        return _TENS[tens][:-1] + "ieth"
    return f"{_TENS[tens]}-{_ORDINALS[ones - 1]}"


def time_words(hour: int, minute: int, meridiem: str) -> str:
    """9, 30, "a" -> "nine thirty in the morning"; 12:00 PM -> "noon"."""
    pm = meridiem.lower() == "p"
    if pm and hour == 12 and minute == 0:
        return "noon"
    if not pm and hour == 12 and minute == 0:
        return "midnight"
    said = number_words(hour % 12 or 12)
    if minute:
        said += " " + (f"oh {number_words(minute)}" if minute < 10 else number_words(minute))
    hour24 = (hour % 12) + (12 if pm else 0)
    if not pm:
        part = "in the morning"
    elif hour24 < 17:
        part = "in the afternoon"
    else:
        part = "in the evening"
    return f"{said} {part}"


def _date_said(match: re.Match[str]) -> str:
    day, month, number = match.groups()
    return f"{_DAYS[day.lower()]}, {_MONTHS[month.lower()]} {ordinal_words(int(number))}"


def _time_said(match: re.Match[str]) -> str:
    hour, minute, meridiem = int(match[1]), int(match[2]), match[3]
    if not (1 <= hour <= 12 and minute < 60):
        return match[0]
    return time_words(hour, minute, meridiem)


def _options_said(text: str) -> str:
    """ "I have: 1) A 2) B 3) C. Which works?" -> "I have A, B, or C. Which works?" """
    markers = list(_OPTION.finditer(text))
    if len(markers) < 2 or [int(m[1]) for m in markers] != list(range(1, len(markers) + 1)):
        return text
    lead = text[: markers[0].start()].rstrip()
    options = []
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        end = following.start() if following else len(text)
        options.append(text[marker.end() : end].strip().rstrip(",;"))
    last, _, rest = options[-1].partition(". ")
    options[-1] = last.rstrip(".")
    options = options[:MAX_OPTIONS]
    listed = options[0] if len(options) == 1 else ", ".join(options[:-1]) + ", or " + options[-1]
    tail = f". {rest}" if rest else "."
    return f"{lead} {listed}{tail}".strip()


def _no_symbols(text: str) -> str:
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("So", "Cs", "Co") or char in "\ufe0f\u200d":
            continue
        kept.append(char)
    return "".join(kept)


def speech_text(text: str) -> str:
    """`text` (a reply written for a text message) as Lexi says it on the phone."""
    said = _no_symbols(text.replace("\x00", ""))
    said = _LINK.sub("", said)
    said = _EXAMPLE.sub("", said)
    said = re.sub(r"\bDr\.\s*", "Doctor ", said)
    said = _options_said(said)
    said = _DATE.sub(_date_said, said)
    said = _TIME.sub(_time_said, said)
    said = re.sub(r"\s+", " ", said).strip()
    if len(said) > MAX_SPOKEN_CHARS:
        cut = said[:MAX_SPOKEN_CHARS]
        said = cut[: cut.rfind(". ") + 1] or cut
    return said
