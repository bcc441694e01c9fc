"""Reads for reminders: a clinic's settings, its texting number, what a reply answers."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from booking.models import Appointment
from conversations.models import Conversation, Message
from reminders.models import Reminder, ReminderPolicy
from tenants.models import Organization, PhoneNumber
from tenants.scoping import unscoped


def policy_for(*, organization: Organization) -> ReminderPolicy:
    """The clinic's reminder settings; the defaults (unsaved) when it never set any."""
    policy = ReminderPolicy.objects.filter(organization=organization).first()
    return policy or ReminderPolicy(organization=organization)


def organizations_reminding() -> list[tuple[Organization, ReminderPolicy]]:
    """Active clinics with reminders on, each with its settings: two queries for all clinics.

    Platform work (the sweep): which clinics to visit, before any clinic's scope is open.
    """
    organizations = list(Organization.objects.filter(is_active=True).order_by("pk"))
    with unscoped():
        policies = {
            p.organization_id: p
            for p in ReminderPolicy.objects.filter(organization__in=organizations)
        }
    pairs = [(o, policies.get(o.pk) or ReminderPolicy(organization=o)) for o in organizations]
    return [(o, p) for o, p in pairs if p.enabled]


def clinic_sms_number(*, organization: Organization) -> str:
    """The number the clinic texts from (its oldest active SMS number), or "" if it has none."""
    number = (
        PhoneNumber.objects.filter(organization=organization, sms_enabled=True, is_active=True)
        .order_by("created_at", "pk")
        .values_list("number", flat=True)
        .first()
    )
    return number or ""


def reminder_id_last_sent(*, conversation: Conversation, message: Message) -> int | None:
    """The reminder id of the last text the clinic sent before `message`, if it was one."""
    last_sent = (
        Message.objects.filter(conversation=conversation, pk__lt=message.pk)
        .filter(Q(role=Message.Role.ASSISTANT) | Q(role=Message.Role.STAFF))
        .order_by("-timestamp", "-pk")
        .values_list("metadata", flat=True)
        .first()
    )
    reminder_id = (last_sent or {}).get("reminder_id")
    return reminder_id if isinstance(reminder_id, int) else None


def reminder_answered(*, reminder_id: int | None) -> Reminder | None:
    """The reminder a text answers, given the one the clinic sent just before it
    (`reminder_id_last_sent`): if it is of a visit that is still ahead and still at that time."""
    if reminder_id is None:
        return None
    reminder = (
        Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.SENT)
        .select_related("appointment__patient", "appointment__provider")
        .select_related("appointment__appointment_type")
        .first()
    )
    if reminder is None:
        return None
    appointment = reminder.appointment
    if (
        appointment.status != Appointment.Status.SCHEDULED
        or appointment.start != reminder.appointment_start
    ):
        return None
    return reminder


def reminders_of(*, appointment: Appointment) -> list[Reminder]:
    """The appointment's reminders with their texts, for the console."""
    return list(
        Reminder.objects.filter(appointment=appointment)
        .select_related("message")
        .order_by("appointment_start", "-lead_minutes")
    )


def reminders_ahead(*, appointment: Appointment, now: datetime) -> list[tuple[int, datetime]]:
    """(lead minutes, due time) of the visit's reminders not decided yet and still to come."""
    from reminders.planning import reminder_due, send_time

    if appointment.status != Appointment.Status.SCHEDULED or appointment.start <= now:
        return []
    organization = appointment.organization
    policy = policy_for(organization=organization)
    if not policy.enabled:
        return []
    tz = organization.tzinfo
    decided = set(
        Reminder.objects.filter(
            appointment=appointment, appointment_start=appointment.start
        ).values_list("lead_minutes", flat=True)
    )
    ahead = []
    for lead in policy.lead_minutes:
        due = reminder_due(start=appointment.start, lead_minutes=lead, tz=tz)
        if lead in decided or due <= now or due < appointment.time_set_at:
            continue
        at = send_time(
            due=due, window_start=policy.window_start, window_end=policy.window_end, tz=tz
        )
        if at < appointment.start:
            ahead.append((lead, at))
    return ahead
