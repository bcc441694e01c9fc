"""How a moment is written for people: to a patient by text, and to staff in the console.

Both read a time on the clinic's wall clock; the patient's is conversational and 12-hour,
the staff's compact and 24-hour.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

__all__ = ["time_for_patient", "time_for_staff"]


def time_for_patient(value: datetime, *, tz: tzinfo | None = None, long: bool = False) -> str:
    """'Tue Dec 1 at 10:00 AM' (long: 'Tuesday, Dec 1 at 10:00 AM'), in `tz` when given."""
    local = value.astimezone(tz) if tz is not None else value
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    day = f"{local:%A}," if long else f"{local:%a}"
    return f"{day} {local:%b} {local.day} at {hour}:{local:%M} {meridiem}"


def time_for_staff(value: datetime, *, tz: tzinfo, full: bool = False) -> str:
    """'Tue 1 Dec, 10:00' (full: 'Tue 1 Dec 2026, 10:00 EST') on the `tz` wall clock."""
    local = value.astimezone(tz)
    if full:
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
