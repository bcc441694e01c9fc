"""Reminder figures for the statistics page: sent, confirmed, what patients did with them.

Runs inside the caller's tenant scope; `organization_ids` narrows further, explicitly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from booking.models import Appointment
from conversations.models import Message, ToolCall
from reminders.models import Reminder


@dataclass(frozen=True)
class ReminderStatistics:
    sent: int = 0
    reminded_visits: int = 0
    confirmed_visits: int = 0
    cancelled_from_reminders: int = 0
    rescheduled_from_reminders: int = 0
    no_shows: int = 0

    @property
    def confirmation_percent(self) -> int | None:
        if not self.reminded_visits:
            return None
        return round(100 * self.confirmed_visits / self.reminded_visits)


def _narrow(queryset: QuerySet[Any], organization_ids: list[uuid.UUID] | None) -> QuerySet[Any]:
    return (
        queryset
        if organization_ids is None
        else queryset.filter(organization_id__in=organization_ids)
    )


def reminder_statistics(
    *, start: datetime, end: datetime, organization_ids: list[uuid.UUID] | None = None
) -> ReminderStatistics:
    """Reminders sent in [start, end), the visits they reminded and how many were confirmed,
    Lexi's cancellations and reschedules asked in answer to a reminder, and no-shows (visits
    in the period staff marked no-show)."""
    sent = _narrow(Reminder.objects.all(), organization_ids).filter(
        status=Reminder.Status.SENT, sent_at__gte=start, sent_at__lt=end
    )
    visits = Appointment.objects.filter(pk__in=sent.values("appointment_id"))
    # The visit a reminder asked about, answered in that thread before the action: the patient's
    # "yes" that confirms a cancel is not itself tagged, the text that started it is.
    after_reminder = Exists(
        Message.objects.filter(
            conversation=OuterRef("conversation"),
            timestamp__lte=OuterRef("created_at"),
            metadata__reminder__appointment_id=OuterRef("arguments__appointment_id"),
        )
    )
    answered = (
        _narrow(ToolCall.objects.all(), organization_ids)
        .filter(created_at__gte=start, created_at__lt=end, error="")
        .filter(after_reminder)
    )
    by_tool = {name: 0 for name in ("cancel_appointment", "reschedule_appointment")}
    for name in answered.filter(name__in=by_tool).values_list("name", flat=True):
        by_tool[name] += 1
    no_shows = _narrow(Appointment.objects.all(), organization_ids).filter(
        status=Appointment.Status.NO_SHOW, start__gte=start, start__lt=end
    )
    return ReminderStatistics(
        sent=sent.count(),
        reminded_visits=visits.count(),
        confirmed_visits=visits.filter(confirmed_at__isnull=False).count(),
        cancelled_from_reminders=by_tool["cancel_appointment"],
        rescheduled_from_reminders=by_tool["reschedule_appointment"],
        no_shows=no_shows.count(),
    )
