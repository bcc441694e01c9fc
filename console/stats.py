"""Statistics of the staff console: what came in and what Lexi did over a period.

Runs inside the caller's tenant scope (the admin opens it); `organization_ids` narrows further,
explicitly. "By Lexi" means ToolCall rows without an error: the actions that went through.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from booking.models import Patient
from conversations.models import Channel, Conversation, Message, ToolCall
from lexi.tools.registry import ToolName
from reminders.stats import ReminderStatistics, reminder_statistics

BOOK = ToolName.BOOK_APPOINTMENT
RESCHEDULE = ToolName.RESCHEDULE_APPOINTMENT
CANCEL = ToolName.CANCEL_APPOINTMENT
REGISTER = ToolName.REGISTER_PATIENT
HAND_OFF = ToolName.HAND_OFF_TO_STAFF


@dataclass(frozen=True)
class Period:
    """[start, end) in aware datetimes; `first_day`..`last_day` on the clinic's calendar."""

    first_day: date
    last_day: date
    tz: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def period_for(
    *, key: str, today: date, tz: tzinfo, first: date | None = None, last: date | None = None
) -> Period:
    """'today', '7d', '30d', or 'custom' (first..last, swapped if reversed, at most a year)."""
    if key == "custom" and first is not None and last is not None:
        first, last = min(first, last), max(first, last)
        first = max(first, last - timedelta(days=366))
        return Period(first_day=first, last_day=last, tz=tz)
    length = {"today": 1, "7d": 7, "30d": 30}.get(key, 7)
    return Period(first_day=today - timedelta(days=length - 1), last_day=today, tz=tz)


@dataclass
class DayRow:
    day: date
    conversations: int = 0
    messages: int = 0
    booked: int = 0
    bar_percent: int = 0


@dataclass
class Statistics:
    conversations: int = 0
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    messages: int = 0
    messages_from_patients: int = 0
    messages_from_lexi: int = 0
    booked: int = 0
    rescheduled: int = 0
    cancelled: int = 0
    registered_by_lexi: int = 0
    new_patients: int = 0
    conversations_with_booking: int = 0
    hand_offs: int = 0
    failed_actions: int = 0
    fallback_replies: int = 0
    flagged_conversations: int = 0
    days: list[DayRow] = field(default_factory=list)
    reminders: ReminderStatistics | None = None

    @property
    def conversion_percent(self) -> int | None:
        if not self.conversations:
            return None
        return round(100 * self.conversations_with_booking / self.conversations)


def _narrow(queryset: QuerySet[Any], organization_ids: list[uuid.UUID] | None) -> QuerySet[Any]:
    if organization_ids is None:
        return queryset
    return queryset.filter(organization_id__in=organization_ids)


def statistics_for_period(
    *, period: Period, organization_ids: list[uuid.UUID] | None = None
) -> Statistics:
    """Counts for `period` within the current scope (and `organization_ids`, when given)."""
    start, end = period.start, period.end
    conversations = _narrow(Conversation.objects.all(), organization_ids).filter(
        start_timestamp__gte=start, start_timestamp__lt=end
    )
    messages = _narrow(Message.objects.all(), organization_ids).filter(
        timestamp__gte=start, timestamp__lt=end
    )
    actions = _narrow(ToolCall.objects.all(), organization_ids).filter(
        created_at__gte=start, created_at__lt=end
    )
    done = actions.filter(error="")
    stats = Statistics()

    per_channel = dict(conversations.order_by().values_list("channel").annotate(n=Count("id")))
    stats.by_channel = [(label, per_channel.get(value, 0)) for value, label in Channel.choices]
    stats.conversations = sum(per_channel.values())
    stats.flagged_conversations = conversations.filter(needs_attention=True).count()
    stats.conversations_with_booking = (
        conversations.filter(Q(tool_calls__name=BOOK, tool_calls__error=""))
        .values("pk")
        .distinct()
        .count()
    )

    per_role = dict(messages.order_by().values_list("role").annotate(n=Count("id")))
    stats.messages = sum(per_role.values())
    stats.messages_from_patients = per_role.get(Message.Role.USER, 0)
    stats.messages_from_lexi = per_role.get(Message.Role.ASSISTANT, 0)
    stats.fallback_replies = messages.filter(role=Message.Role.ASSISTANT, fell_back=True).count()

    per_tool = dict(done.order_by().values_list("name").annotate(n=Count("id")))
    stats.booked = per_tool.get(BOOK, 0)
    stats.rescheduled = per_tool.get(RESCHEDULE, 0)
    stats.cancelled = per_tool.get(CANCEL, 0)
    stats.registered_by_lexi = per_tool.get(REGISTER, 0)
    stats.hand_offs = per_tool.get(HAND_OFF, 0)
    stats.failed_actions = actions.exclude(error="").count()
    stats.new_patients = _new_patients(start=start, end=end, organization_ids=organization_ids)

    stats.reminders = reminder_statistics(start=start, end=end, organization_ids=organization_ids)
    stats.days = _per_day(
        period=period,
        conversations=conversations,
        messages=messages,
        bookings=done.filter(name=BOOK),
    )
    return stats


def _new_patients(
    *, start: datetime, end: datetime, organization_ids: list[uuid.UUID] | None
) -> int:
    patients = _narrow(Patient.objects.all(), organization_ids)
    return patients.filter(created_at__gte=start, created_at__lt=end).count()


def _counts_by_day(queryset: QuerySet[Any], field_name: str, tz: tzinfo) -> dict[date, int]:
    rows = (
        queryset.annotate(day=TruncDate(field_name, tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    return dict(rows)


def _per_day(
    *,
    period: Period,
    conversations: QuerySet[Any],
    messages: QuerySet[Any],
    bookings: QuerySet[Any],
) -> list[DayRow]:
    tz = period.tz
    by_conversation = _counts_by_day(conversations, "start_timestamp", tz)
    by_message = _counts_by_day(messages, "timestamp", tz)
    by_booking = _counts_by_day(bookings, "created_at", tz)
    rows = [
        DayRow(
            day=day,
            conversations=by_conversation.get(day, 0),
            messages=by_message.get(day, 0),
            booked=by_booking.get(day, 0),
        )
        for day in period.days
    ]
    peak = max((row.conversations for row in rows), default=0)
    for row in rows:
        row.bar_percent = round(100 * row.conversations / peak) if peak else 0
    return rows
