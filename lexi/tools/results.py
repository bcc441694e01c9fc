"""What a tool call gives back, and how times in it are written for an SMS reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from lexi.context import TurnContext
from tenants.clock import time_for_patient


@dataclass
class ToolResult:
    """What one tool call produced. `error` is a stable code; `message` explains it."""

    name: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    message: str = ""

    def as_model_payload(self) -> dict[str, Any]:
        """What goes back to the model: the data, or the error code and its explanation."""
        if self.ok:
            return self.data
        return {"error": self.error, "message": self.message}


def start_text(dt: datetime, *, tz: tzinfo | None = None) -> str:
    """'Tue Dec 1 at 10:00 AM': how Lexi says a time by SMS (in `tz` when given)."""
    return time_for_patient(dt, tz=tz)


def office_time(context: TurnContext, dt: datetime) -> datetime:
    """`dt` in the office's timezone: the patient talks in the clinic's local time."""
    return dt.astimezone(context.organization.tzinfo)
