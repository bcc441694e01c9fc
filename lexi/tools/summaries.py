"""Each tool's call in plain words, for staff reading a transcript.

Read from the stored arguments and result (which the tools in this package wrote); anything
unexpected in them is shown as plain text, never trusted as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from tenants.clock import time_for_staff

__all__ = ["Summary", "failed"]

# A successful call in words, from its arguments, its result and the clinic's timezone.
Summary = Callable[[dict[str, Any], dict[str, Any], tzinfo], str]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _visit(result: dict[str, Any]) -> str:
    kind = _text(result.get("appointment_type")) or "an appointment"
    provider = _text(result.get("provider"))
    return f"{kind} with {provider}" if provider else kind


def _when(result: dict[str, Any], tz: tzinfo) -> str:
    start = _text(result.get("start"))
    if start:
        try:
            parsed = datetime.fromisoformat(start)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return f" — {time_for_staff(parsed, tz=tz)}"
    fallback = _text(result.get("start_text"))
    return f" — {fallback}" if fallback else ""


def _counted(items: Any, noun: str, where: str = "") -> str:
    count = len(items) if isinstance(items, list) else 0
    plural = noun if count == 1 else f"{noun}s"
    found = f"Found {count} {plural}" if count else f"Found no {plural}"
    return f"{found} {where}".strip()


def booked(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    return f"Booked {_visit(result)}{_when(result, tz)}"


def rescheduled(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    return f"Rescheduled {_visit(result)}{_when(result, tz)}"


def cancelled(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    return f"Cancelled the appointment{_when(result, tz)}"


def registered(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    who = " ".join(_text(result.get(k)) for k in ("first_name", "last_name")).strip()
    return f"Registered a new patient: {who}" if who else "Registered a new patient"


def patients_found(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    return _counted(result.get("patients"), "patient", "on this phone")


def slots_found(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    kind = _text(result.get("appointment_type"))
    return _counted(result.get("slots"), f"free {kind} slot" if kind else "free slot")


def appointments_listed(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    return _counted(result.get("appointments"), "upcoming appointment")


def office_read(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    return "Read the office information"


def handed_off(arguments: dict[str, Any], result: dict[str, Any], tz: tzinfo) -> str:
    reason = _text(arguments.get("reason"))
    return f"Handed off to staff: {reason}" if reason else "Handed off to staff"


def failed(label: str, result: dict[str, Any], error: str) -> str:
    """A failed call: what failed, and the tool's own explanation (else its error code)."""
    return f"{label}: {_text(result.get('message')) or error}"
