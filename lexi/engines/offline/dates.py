"""Dates and times in ordinary texting: "tomorrow", "next Tuesday afternoon", "Dec 3 at 10",
"12/3 3pm", dates of birth, and which offered time "the second one" or "2pm works" picks.

Functions take normalized text (understand.text_normalize) and today's date in the office's
timezone; none reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from lexi.engines.offline.words import MONTH_RE, MONTHS, WEEKDAYS, has

__all__ = ["When", "choice_pick", "dob_parse", "index_pick", "time_parse", "when_parse"]

# --- dates and times -------------------------------------------------------------------------

_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "couple": 2, "few": 3}
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b")
_MONTH_DAY = re.compile(rf"\b({MONTH_RE})\.?\s+(\d{{1,2}}){_ORD}\b(?:,?\s+(\d{{4}})\b)?")
# "10 may work" is not May 10th: day-first dates skip "may".
_DAY_MONTH_RE = "|".join(sorted((m for m in MONTHS if m != "may"), key=len, reverse=True))
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}}){_ORD}\s+(?:of\s+)?({_DAY_MONTH_RE})\b\.?(?:,?\s+(\d{{4}})\b)?"
)
_THE_DAY = re.compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b")
_WEEKDAY = re.compile(rf"\b(this|next|coming|on)?\s*({_WEEKDAY_RE})s?\b")
_WEEK_FROM = re.compile(rf"\b(?:a |one )?week from ({_WEEKDAY_RE})\b")
_AFTER_NEXT = re.compile(rf"\b({_WEEKDAY_RE}) after next\b")
_IN_N = re.compile(r"\bin (a|one|two|three|four|couple|few|\d+)\s*(?:of\s+)?(days?|weeks?)\b")
_TIME = re.compile(
    r"(?:\b(at|@|around|by|after|before|from|about)\s+)?"
    r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a|p|oclock)?\b"
)


@dataclass
class When:
    """A day/time preference. Dates are inclusive; `hour` is 24h; `time_op` is at/after/before."""

    start: date | None = None
    end: date | None = None
    part_of_day: str | None = None
    hour: int | None = None
    minute: int = 0
    time_op: str = "at"
    asap: bool = False
    # What the patient ruled out: weekdays (0 = Monday) and a time window in minutes.
    skip_days: list[int] = field(default_factory=list)
    skip_window: list[int] = field(default_factory=list)

    def allows(self, start: datetime) -> bool:
        """Whether a slot starting at `start` (local) is not ruled out."""
        if start.weekday() in self.skip_days:
            return False
        if self.skip_window:
            minutes = start.hour * 60 + start.minute
            return not self.skip_window[0] <= minutes < self.skip_window[1]
        return True

    def as_state(self) -> dict[str, Any]:
        value = asdict(self)
        value["start"] = self.start.isoformat() if self.start else None
        value["end"] = self.end.isoformat() if self.end else None
        return value

    @classmethod
    def from_state(cls, value: dict[str, Any]) -> When:
        data = dict(value)
        data["start"] = date.fromisoformat(data["start"]) if data.get("start") else None
        data["end"] = date.fromisoformat(data["end"]) if data.get("end") else None
        names = set(cls.__dataclass_fields__)
        return cls(**{key: val for key, val in data.items() if key in names})


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year_full(text: str | None) -> int | None:
    if text is None:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def _upcoming(month: int, day: int, year: int | None, today: date) -> date | None:
    """A month/day with no year means the next one on or after today."""
    if year is not None:
        return _safe_date(year, month, day)
    found = _safe_date(today.year, month, day)
    if found is not None and found < today:
        found = _safe_date(today.year + 1, month, day)
    return found


def _explicit_date(text: str, today: date) -> tuple[date | None, str]:
    """The first explicit calendar date in the text, and the text with it removed."""
    for pattern, order in (
        (_ISO_DATE, "ymd"),
        (_SLASH_DATE, "mdy"),
        (_MONTH_DAY, "Mdy"),
        (_DAY_MONTH, "dMy"),
    ):
        match = pattern.search(text)
        if not match:
            continue
        a, b, c = match.groups()
        if order == "ymd":
            found = _safe_date(int(a), int(b), int(c))
        elif order == "mdy":
            found = _upcoming(int(a), int(b), _year_full(c), today)
        elif order == "Mdy":
            found = _upcoming(MONTHS[a], int(b), _year_full(c), today)
        else:
            found = _upcoming(MONTHS[b], int(a), _year_full(c), today)
        if found is not None:
            return found, text[: match.start()] + " " + text[match.end() :]
    match = _THE_DAY.search(text)
    if match:
        day = int(match.group(1))
        found = _safe_date(today.year, today.month, day)
        if found is None or found < today:
            month_after = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            found = _safe_date(month_after.year, month_after.month, day)
        if found is not None:
            return found, text[: match.start()] + " " + text[match.end() :]
    return None, text


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _relative_dates(text: str, today: date) -> tuple[date | None, date | None, bool]:
    """(start, end, asap) from words like tomorrow, next Tuesday, this week, in two weeks."""
    if has(text, r"\bovermorrow\b"):
        day = today + timedelta(days=2)
        return day, day, False
    if has(text, r"\btomorrow\b"):
        day = today + timedelta(days=1)
        return day, day, False
    if has(text, r"\btoday\b|\btonight\b|\bthis (morning|afternoon|evening)\b"):
        return today, today, False
    match = _WEEK_FROM.search(text)
    if match:  # "a week from Monday": the coming Monday, a week on
        weekday = WEEKDAYS[match.group(1)]
        day = today + timedelta(days=(weekday - today.weekday()) % 7 or 7) + timedelta(days=7)
        return day, day, False
    match = _AFTER_NEXT.search(text)
    if match:  # "Monday after next": the Monday of the week after next
        day = _week_start(today) + timedelta(days=14 + WEEKDAYS[match.group(1)])
        return day, day, False
    if has(text, r"\bend of (the )?next week\b"):
        start = _week_start(today) + timedelta(days=7 + 3)
        return start, start + timedelta(days=2), False
    if has(text, r"\bend of (the|this) week\b"):
        start = _week_start(today) + timedelta(days=3)
        return max(start, today), start + timedelta(days=2), False
    match = _WEEKDAY.search(text)
    if match:
        qualifier, name = match.groups()
        if has(text, r"\bnext week\b"):
            qualifier = "next"
        weekday = WEEKDAYS[name]
        if qualifier == "next":
            day = _week_start(today) + timedelta(days=7 + weekday)
        else:
            day = today + timedelta(days=(weekday - today.weekday()) % 7)
            if day == today and qualifier != "this":
                day += timedelta(days=7)
        return day, day, False
    if has(text, r"\bnext weekend\b"):
        start = _week_start(today) + timedelta(days=12)
        return start, start + timedelta(days=1), False
    if has(text, r"\bweekend\b"):
        start = _week_start(today) + timedelta(days=5)
        return max(start, today), start + timedelta(days=1), False
    if has(text, r"\bnext week\b"):
        start = _week_start(today) + timedelta(days=7)
        return start, start + timedelta(days=6), False
    if has(text, r"\b(this|rest of the|later this) week\b"):
        return today, _week_start(today) + timedelta(days=6), False
    if has(text, r"\bnext month\b"):
        start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, end, False
    match = _IN_N.search(text)
    if match:
        amount_text, unit = match.groups()
        amount = int(amount_text) if amount_text.isdigit() else _NUMBER_WORDS[amount_text]
        if unit.startswith("day"):
            day = today + timedelta(days=amount)
            return day, day, False
        start = today + timedelta(days=7 * amount)
        return start, start + timedelta(days=6), False
    if has(
        text,
        r"\basap\b|\bas soon as\b|\bsoonest\b|\bearliest\b|\bfirst available\b|\bany ?time\b"
        r"|\bwhenever\b|\bany day\b|\bdoes not matter\b|\bflexible\b|\bsoon\b|\bnext available\b",
    ):
        return None, None, True
    return None, None, False


def _part_of_day(text: str) -> str | None:
    if has(text, r"\bmorning\b|\bin the am\b|\bbefore noon\b|\bearly\b|\bfirst thing\b"):
        return "morning"
    if has(text, r"\bafternoon\b|\bafter lunch\b|\bin the pm\b"):
        return "afternoon"
    if has(text, r"\bevening\b|\btonight\b|\bafter work\b|\bnight\b"):
        return "evening"
    return None


def time_parse(text: str, *, bare: bool = False) -> tuple[int, int, str, bool] | None:
    """(hour 0-23, minute, op, meridiem given) of the first time in normalized text.

    A bare number counts as a time only after at/around/by..., with am/pm or :mm, or when
    `bare` is set (the patient is picking among offered times). 1-6 without am/pm mean PM.
    """
    if has(text, r"\bnoon\b|\bmidday\b"):
        return 12, 0, "at", True
    for match in _TIME.finditer(text):
        op, hour_text, minute_text, meridiem = match.groups()
        if text[match.end() : match.end() + 1] == "/" or text[max(0, match.start(2) - 1)] == "/":
            continue
        if not (op or minute_text or meridiem or bare):
            continue
        hour, minute = int(hour_text), int(minute_text or 0)
        if hour > 23 or minute > 59:
            continue
        if meridiem in ("pm", "p") and hour < 12:
            hour += 12
        elif meridiem in ("am", "a") and hour == 12:
            hour = 0
        elif meridiem in (None, "oclock") and 1 <= hour <= 6:
            hour += 12
        has_meridiem = meridiem in ("am", "pm", "a", "p") or hour > 12
        relation = {"after": "after", "from": "after", "before": "before", "by": "before"}
        return hour, minute, relation.get(op or "", "at"), has_meridiem
    return None


_SKIP_DAY = re.compile(
    rf"\b(?:but|except|other than|not(?: on)?|no)\s+(?:on\s+)?({_WEEKDAY_RE})s?\b"
)
_SKIP_WINDOW = re.compile(
    r"\bnot (?:between|from) (\d{1,2})(?::(\d{2}))?\s*(am|pm)? (?:and|to|-) "
    r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b"
)


def _clock_minutes(hour: int, minute: int, meridiem: str | None) -> int:
    if (meridiem == "pm" and hour < 12) or (meridiem is None and 1 <= hour <= 6):
        hour += 12
    return hour * 60 + minute


def _ruled_out(text: str) -> tuple[list[int], list[int], str]:
    """Weekdays and a time window the patient excludes, and the text without them."""
    days = [WEEKDAYS[m.group(1)] for m in _SKIP_DAY.finditer(text)]
    text = _SKIP_DAY.sub(" ", text)
    window: list[int] = []
    match = _SKIP_WINDOW.search(text)
    if match:
        h1, m1, p1, h2, m2, p2 = match.groups()
        window = [
            _clock_minutes(int(h1), int(m1 or 0), p1),
            _clock_minutes(int(h2), int(m2 or 0), p2),
        ]
        text = text[: match.start()] + " " + text[match.end() :]
    return days, window, text


def when_parse(text: str, *, today: date) -> When | None:
    """A day/time preference from normalized text, or None if it names no day or time."""
    skip_days, skip_window, text = _ruled_out(text)
    when = _when_named(text, today=today)
    if not (skip_days or skip_window):
        return when
    when = when or When(asap=True)
    when.skip_days, when.skip_window = skip_days, skip_window
    return when


def _when_named(text: str, *, today: date) -> When | None:
    explicit, rest = _explicit_date(text, today)
    start: date | None
    end: date | None
    if explicit is not None:
        start, end, asap = explicit, explicit, False
    else:
        start, end, asap = _relative_dates(rest, today)
    part = _part_of_day(rest)
    clock = time_parse(rest)
    if start is None and not asap and part is None and clock is None:
        return None
    when = When(start=start, end=end, part_of_day=part, asap=asap)
    if clock is not None:
        when.hour, when.minute, when.time_op, _ = clock
        if part is None:
            when.part_of_day = None
    return when


# --- dates of birth ----------------------------------------------------------------------------


def dob_parse(text: str, *, today: date) -> date | None:
    """A date of birth: 3/14/1985, 03-14-85, March 14 1985, 14 March 1985, 1985-03-14."""
    lowered = text.lower()
    candidates: list[date | None] = []
    if match := _ISO_DATE.search(lowered):
        candidates.append(_safe_date(*(int(g) for g in match.groups())))
    if match := re.search(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b", lowered):
        month, day, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if year < 100:
            year += 2000 if year <= today.year % 100 else 1900
        candidates.append(_safe_date(year, month, day))
    if (match := _MONTH_DAY.search(lowered)) and match.group(3):
        candidates.append(
            _safe_date(int(match.group(3)), MONTHS[match.group(1)], int(match.group(2)))
        )
    if (match := _DAY_MONTH.search(lowered)) and match.group(3):
        candidates.append(
            _safe_date(int(match.group(3)), MONTHS[match.group(2)], int(match.group(1)))
        )
    for found in candidates:
        if found is not None and today.year - 120 <= found.year and found <= today:
            return found
    return None


# --- picking among offered options -----------------------------------------------------------

_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
}


def index_pick(text: str, count: int) -> int | None:
    """Which of `count` listed things: 'the first', 'the second one', 'option 3', '#2', '2'."""
    for word, index in _ORDINALS.items():
        if has(text, rf"\b{word}\b") and index < count:
            return index
    if has(text, r"\b(last|latest)\b") and count:
        return count - 1
    if has(text, r"\b(earliest|soonest)\b") and count:
        return 0
    if match := re.search(r"(?:\boption|\bnumber|\bno\.|#|\bchoice)\s*(\d|one|two|three)\b", text):
        raw = match.group(1)
        index = (int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]) - 1
        return index if 0 <= index < count else None
    if match := re.fullmatch(
        r"\s*(?:the\s+)?(\d|one|two|three)\s*(?:one|please|pls)?[.!]*\s*", text
    ):
        raw = match.group(1)
        index = (int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]) - 1
        return index if 0 <= index < count else None
    return None


def choice_pick(text: str, *, options: list[dict[str, Any]], today: date) -> int | None:
    """Which offered option the normalized text picks: 'the second one', 'option 3', '2pm
    works', '10:30', 'Tuesday', 'Dr. Lee'. Options carry a local ISO `start` and may carry
    `provider`. None when nothing, or more than one option, matches."""
    if not options:
        return None
    index = index_pick(text, len(options))
    if index is not None:
        return index
    starts = [datetime.fromisoformat(o["start"]) for o in options]
    candidates = list(range(len(options)))
    narrowed = False
    clock = time_parse(re.sub(r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b", " ", text), bare=True)
    if clock is not None:
        hour, minute, _, has_meridiem = clock
        by_time = [
            i
            for i in candidates
            if starts[i].minute == minute
            and (starts[i].hour == hour or (not has_meridiem and starts[i].hour % 12 == hour % 12))
        ]
        if not by_time and minute == 0:
            by_time = [i for i in candidates if starts[i].hour in (hour, hour % 12 + 12)]
        candidates, narrowed = by_time, True
    explicit, rest = _explicit_date(text, today)
    day = explicit or _relative_dates(rest, today)[0]
    if day is not None:
        candidates = [i for i in candidates if starts[i].date() == day]
        narrowed = True
    providers = [i for i in candidates if _provider_named(text, options[i].get("provider", ""))]
    if providers:
        candidates, narrowed = providers, True
    if not narrowed:
        part = _part_of_day(text)
        if part is not None:
            bounds = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}[part]
            candidates = [i for i in candidates if bounds[0] <= starts[i].hour < bounds[1]]
            narrowed = True
    if narrowed and len(candidates) == 1:
        return candidates[0]
    return None


def _provider_named(text: str, provider: str) -> bool:
    words = [w for w in re.findall(r"[a-z]+", provider.lower()) if w not in ("dr", "doctor")]
    return any(len(w) >= 3 and has(text, rf"\b{re.escape(w)}\b") for w in words)
