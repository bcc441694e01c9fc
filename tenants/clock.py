"""How a moment is written for people: to a patient by text, and to staff in the console.

Both read a time on the clinic's wall clock; the patient's is conversational and 12-hour,
the staff's compact and 24-hour.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils.translation import get_language

__all__ = ["clock_for_patient", "day_for_patient", "time_for_patient", "time_for_staff"]


_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]


def time_for_patient(value: datetime, *, tz: tzinfo | None = None, long: bool = False) -> str:
    """'Tue Dec 1 at 10:00 AM' (long: 'Tuesday, Dec 1 at 10:00 AM'), in `tz` when given.

    In Spanish (the active language, see conversations/language.py): 'mar 1 dic a las 10:00'
    (long: 'martes 1 de dic a las 10:00').
    """
    local = value.astimezone(tz) if tz is not None else value
    if _spanish():
        day_name = _ES_DAYS[local.weekday()]
        month = _ES_MONTHS[local.month - 1]
        if long:
            return f"{day_name} {local.day} de {month} a las {local:%H:%M}"
        return f"{day_name[:3]} {local.day} {month} a las {local:%H:%M}"
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    day = f"{local:%A}," if long else f"{local:%a}"
    return f"{day} {local:%b} {local.day} at {hour}:{local:%M} {meridiem}"


def day_for_patient(local: datetime) -> str:
    """'Tue Dec 1' ('mar 1 dic' in Spanish) of a wall-clock time."""
    if _spanish():
        return f"{_ES_DAYS[local.weekday()][:3]} {local.day} {_ES_MONTHS[local.month - 1]}"
    return f"{local:%a} {local:%b} {local.day}"


def clock_for_patient(local: datetime) -> str:
    """'10:00 AM' ('10:00' in Spanish) of a wall-clock time."""
    if _spanish():
        return f"{local:%H:%M}"
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def _spanish() -> bool:
    return (get_language() or "").startswith("es")


def time_for_staff(value: datetime, *, tz: tzinfo, full: bool = False) -> str:
    """'Tue 1 Dec, 10:00' (full: 'Tue 1 Dec 2026, 10:00 EST') on the `tz` wall clock."""
    local = value.astimezone(tz)
    if full:
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
