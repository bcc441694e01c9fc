"""When reminders are due, and the sweep's first half: deciding them, one row each.

Pure time arithmetic first (lead times, quiet hours, DST), then `reminders_plan`, which reads
the appointments that have come due since the last sweep with one query per lead time, and
`reminders_store`, which inserts their rows in batches, insert-or-nothing: the unique
(appointment, start, lead) row is how two sweeps agree that a reminder is decided once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from django.db.models import Exists, OuterRef

from booking.models import Appointment
from reminders.models import Reminder, ReminderPolicy
from tenants.models import Organization
from tenants.scoping import scope_required

DAY_MINUTES = 1440
# A lead time in whole days keeps the wall-clock time, so across a DST change it is up to an
# hour (Lord Howe: half an hour) longer or shorter than the same number of 24 hours.
DST_MARGIN = timedelta(hours=2)
STORE_BATCH = 5000  # rows per INSERT: 11 parameters each, under PostgreSQL's 65,535

SKIP_BOOKED_INSIDE = "The visit was booked or moved after this reminder's time."
SKIP_QUIET_HOURS = "Quiet hours last until the visit."
SKIP_LATER_DUE = "A later reminder was due at the same time; only that one was sent."


def reminder_due(*, start: datetime, lead_minutes: int, tz: tzinfo) -> datetime:
    """When a reminder `lead_minutes` before `start` is due, before quiet hours.

    Whole days are counted on the clinic's calendar (a 10:00 visit: 10:00 two days before, DST
    or not); what is left is elapsed time.
    """
    days, minutes = divmod(lead_minutes, DAY_MINUTES)
    local = start.astimezone(tz)
    wall = datetime.combine(local.date() - timedelta(days=days), local.time(), tzinfo=tz)
    # Via UTC: arithmetic on an aware datetime in a zone is wall-clock arithmetic.
    return wall.astimezone(UTC) - timedelta(minutes=minutes)


def send_time(*, due: datetime, window_start: time, window_end: time, tz: tzinfo) -> datetime:
    """`due`, or the next minute the clinic allows texts (window_start..window_end, local)."""
    local = due.astimezone(tz)
    if window_start <= local.time() < window_end:
        return due
    day = local.date() if local.time() < window_start else local.date() + timedelta(days=1)
    return datetime.combine(day, window_start, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Planned:
    """One reminder decided by a sweep: scheduled for `due_at`, or skipped for a reason."""

    appointment_id: int
    lead_minutes: int
    appointment_start: datetime
    due_at: datetime
    skip_reason: str = ""

    @property
    def skipped(self) -> bool:
        return bool(self.skip_reason)


def reminders_plan(
    *, organization: Organization, policy: ReminderPolicy, now: datetime
) -> list[Planned]:
    """The reminders that came due by `now` and have no row yet, each scheduled or skipped.

    One query per lead time, whatever the number of appointments: only visits within the lead
    time (plus DST_MARGIN) that lack a row for their current start are read.
    """
    scope_required(organization)
    tz = organization.tzinfo
    decided: dict[int, list[Planned]] = {}
    for lead in policy.lead_minutes:
        undecided = ~Exists(
            Reminder.objects.filter(
                appointment=OuterRef("pk"),
                appointment_start=OuterRef("start"),
                lead_minutes=lead,
            )
        )
        rows = (
            Appointment.objects.filter(
                organization=organization,
                status=Appointment.Status.SCHEDULED,
                start__gt=now,
                start__lte=now + timedelta(minutes=lead) + DST_MARGIN,
            )
            .filter(undecided)
            .values_list("pk", "start", "time_set_at")
        )
        for pk, start, time_set_at in rows:
            due = reminder_due(start=start, lead_minutes=lead, tz=tz)
            if due > now:
                continue
            planned = Planned(pk, lead, start, due, SKIP_BOOKED_INSIDE if time_set_at > due else "")
            if not planned.skipped:
                planned = Planned(pk, lead, start, _sent_at(policy, due, tz))
                if planned.due_at >= start:
                    planned = Planned(pk, lead, start, planned.due_at, SKIP_QUIET_HOURS)
            decided.setdefault(pk, []).append(planned)
    return [item for items in decided.values() for item in _latest_only(items)]


def _sent_at(policy: ReminderPolicy, due: datetime, tz: tzinfo) -> datetime:
    return send_time(due=due, window_start=policy.window_start, window_end=policy.window_end, tz=tz)


def _latest_only(items: list[Planned]) -> list[Planned]:
    """A sweep that finds several reminders of one visit due at once (after a pause) sends only
    the one nearest the visit; the patient does not get "in 2 days" and "in 2 hours" together."""
    live = sorted((i for i in items if not i.skipped), key=lambda i: i.lead_minutes)
    stale = {id(i) for i in live[1:]}
    return [
        Planned(i.appointment_id, i.lead_minutes, i.appointment_start, i.due_at, SKIP_LATER_DUE)
        if id(i) in stale
        else i
        for i in items
    ]


def reminders_store(*, organization: Organization, planned: list[Planned], claim: uuid.UUID) -> int:
    """Insert the planned rows; a row another sweep inserted first is left as it is.

    Returns how many rows were planned (not how many this sweep won: see the claim).
    """
    scope_required(organization)
    rows = [
        Reminder(
            organization=organization,
            appointment_id=item.appointment_id,
            lead_minutes=item.lead_minutes,
            appointment_start=item.appointment_start,
            due_at=item.due_at,
            status=Reminder.Status.SKIPPED if item.skipped else Reminder.Status.SCHEDULED,
            skip_reason=item.skip_reason,
            claim=claim,
        )
        # One order for every sweep: two inserting the same rows wait for each other, never
        # deadlock.
        for item in sorted(planned, key=lambda i: (i.appointment_id, i.lead_minutes))
    ]
    Reminder.objects.bulk_create(rows, batch_size=STORE_BATCH, ignore_conflicts=True)
    return len(rows)
