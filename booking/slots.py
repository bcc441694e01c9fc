"""Slots: the bookable times, their signed ids, and the pure time arithmetic behind them.

No queries here. Wall times (schedule blocks) are turned into instants with zoneinfo one day at
a time, and every duration is added in UTC, so a slot is as long as its type on the days the
clocks change too.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from django.core import signing

from booking.errors import SlotInvalid

if TYPE_CHECKING:
    from booking.models import AppointmentType, Provider

SLOT_SALT = "booking.slot"
_MAX_SLOT_ID_LENGTH = 200

# Local start time ranges; the end is exclusive.
PARTS_OF_DAY: dict[str, tuple[time, time | None]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), None),
}


@dataclass(frozen=True)
class Slot:
    """A bookable time: offer `start`/`end` (aware, organization's time zone), book `slot_id`."""

    slot_id: str
    provider: Provider
    appointment_type: AppointmentType
    start: datetime
    end: datetime


class SlotRef(NamedTuple):
    """What a slot id says: who, when (UTC) and what for. The organization is its signing key."""

    provider_id: int
    start: datetime
    appointment_type_id: int


def _signer(organization_id: Any) -> signing.Signer:
    # The organization is part of the salt, so a slot id verifies in its own organization only.
    return signing.Signer(salt=f"{SLOT_SALT}:{organization_id}")


def slot_encode(
    *, organization_id: Any, provider_id: int, start: datetime, appointment_type_id: int
) -> str:
    """A short, signed, opaque id such as '2.hxq3k0.1:<signature>'. `start` is whole minutes."""
    if start.tzinfo is None or start.second or start.microsecond:
        raise ValueError("A slot starts at an aware datetime on a whole minute.")
    minutes = int(start.timestamp()) // 60
    payload = ".".join(_base36(n) for n in (provider_id, minutes, appointment_type_id))
    return _signer(organization_id).sign(payload)


def slot_decode(*, organization: Any, slot_id: str) -> SlotRef:
    """Verify and unpack a slot id. Raises SlotInvalid if forged, tampered or another org's."""
    if not isinstance(slot_id, str) or not slot_id or len(slot_id) > _MAX_SLOT_ID_LENGTH:
        raise SlotInvalid()
    try:
        payload = _signer(organization.pk).unsign(slot_id.strip())
        provider, minutes, appointment_type = (int(part, 36) for part in payload.split("."))
        start = datetime.fromtimestamp(minutes * 60, tz=UTC)
    except (signing.BadSignature, ValueError, OverflowError, OSError) as exc:
        raise SlotInvalid() from exc
    return SlotRef(provider, start, appointment_type)


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("slot id fields are non-negative")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time, or None if the clocks skip it (spring forward).

    An ambiguous wall time (fall back) means its first occurrence.
    """
    local = datetime.combine(day, wall.replace(fold=0), tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _wall_bound(day: date, wall: time, tz: ZoneInfo) -> datetime:
    # A block edge the clocks skip still bounds the block: take the instant the clock jumps to.
    return datetime.combine(day, wall.replace(fold=0), tzinfo=tz).astimezone(UTC)


def block_bounds(
    day: date, start_time: time, end_time: time, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """A schedule block on `day` as (start, end) UTC instants."""
    return _wall_bound(day, start_time, tz), _wall_bound(day, end_time, tz)


def grid_starts(
    *,
    day: date,
    start_time: time,
    end_time: time,
    duration: timedelta,
    step_minutes: int,
    tz: ZoneInfo,
) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) in UTC for each grid time of the block whose whole duration fits in it.

    The grid is anchored at local midnight, so every provider shares the same times.
    """
    block_end = _wall_bound(day, end_time, tz)
    partial_minute = 1 if start_time.second or start_time.microsecond else 0
    first = start_time.hour * 60 + start_time.minute + partial_minute
    minute = math.ceil(first / step_minutes) * step_minutes
    last = end_time.hour * 60 + end_time.minute
    while minute < last:
        start = local_instant(day, time(minute // 60, minute % 60), tz)
        if start is not None:
            end = start + duration
            if end > block_end:
                return
            yield start, end
        minute += step_minutes


def in_part_of_day(local_start: datetime, part_of_day: str | None) -> bool:
    if part_of_day is None:
        return True
    low, high = PARTS_OF_DAY[part_of_day]
    wall = local_start.time()
    return low <= wall and (high is None or wall < high)


class BusyTimes:
    """One provider's booked intervals, merged, for O(log n) overlap tests."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]) -> None:
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        for start, end in sorted(intervals):
            if self._ends and start <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Does [start, end) meet a booked interval? Touching end-to-start is not an overlap."""
        index = bisect.bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start
