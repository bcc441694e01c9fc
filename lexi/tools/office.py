"""The office tool: what Lexi may tell anyone about the clinic."""

from __future__ import annotations

from typing import Any

from booking.selectors import appointment_types_active, office_day, providers_active
from lexi.context import TurnContext
from lexi.tools.arguments import date_parse
from lexi.tools.results import office_time


def get_office_info(context: TurnContext, arguments: dict[str, Any]) -> dict[str, Any]:
    org = context.organization
    now = office_time(context, context.now)
    info: dict[str, Any] = {
        "name": org.name,
        "phone": org.phone,
        "address": org.address,
        "website": org.website,
        "office_hours": org.office_hours,
        "services": org.services,
        "policies": org.policies,
        "timezone": org.timezone,
        "today": now.date().isoformat(),
        "now": now.isoformat(timespec="minutes"),
        "appointment_types": [t.name for t in appointment_types_active(organization=org)],
        "providers": [p.name for p in providers_active(organization=org)],
    }
    asked = date_parse(arguments.get("date"), key="date")
    if asked is not None:
        day = office_day(organization=org, day=asked)
        info["day"] = {"date": asked.isoformat(), "open": day.is_open, "closed_for": day.reason}
    return info
