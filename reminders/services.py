"""Writes for reminders: the sweep (decide, claim, send), confirmations, staff-change texts.

A sweep decides the reminders due (reminders/planning.py), then claims the scheduled ones
whose time has come (SELECT ... FOR UPDATE SKIP LOCKED, then one UPDATE stamped with its own
token): a row is claimed by one sweep only, and a claimed row is never claimed again, so a
reminder is sent at most once even with two workers and overlapping sweeps. Each claimed
reminder goes out through the outbound path (sms.outbound.sms_send) into the patient's SMS
thread with the clinic.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from booking.models import Appointment
from conversations.language import conversation_language_of
from conversations.models import Channel, Conversation, Message
from conversations.services import conversation_open
from reminders.models import Reminder, ReminderPolicy
from reminders.planning import Planned, reminders_plan, reminders_store
from reminders.selectors import clinic_sms_number
from reminders.texts import (
    VisitWords,
    change_notice_text,
    reminder_render,
    reminder_template,
    visit_words,
)
from sms.inbound import sms_session_id
from sms.outbound import RecipientOptedOut, SendRefused, sms_send
from tenants.models import Organization
from tenants.scoping import scope_required

logger = logging.getLogger(__name__)

SEND_BATCH = 200
SKIP_VISIT_CHANGED = "The visit was moved, cancelled or has begun."
SKIP_NO_NUMBER = "The clinic has no active SMS number to text from."


@dataclass(frozen=True)
class SweepResult:
    planned: int
    sent: int
    skipped: int


def reminders_decide(
    *, organization: Organization, policy: ReminderPolicy, now: datetime
) -> list[Planned]:
    """Decide the reminders that came due by `now` and store them (scheduled or skipped)."""
    planned = reminders_plan(organization=organization, policy=policy, now=now)
    if planned:
        reminders_store(organization=organization, planned=planned, claim=uuid.uuid4())
    return planned


def reminders_due_count(*, organization: Organization, now: datetime) -> int:
    """How many scheduled reminders are due by `now` (what the send tasks will claim)."""
    scope_required(organization)
    return Reminder.objects.filter(
        organization=organization, status=Reminder.Status.SCHEDULED, due_at__lte=now
    ).count()


def reminders_claim(*, organization: Organization, now: datetime, limit: int) -> list[Reminder]:
    """Take up to `limit` scheduled reminders due by `now` for this sweep alone.

    Retires first the scheduled reminders of visits moved, cancelled or begun since.
    """
    scope_required(organization)
    scheduled = Reminder.objects.filter(
        organization=organization, status=Reminder.Status.SCHEDULED, due_at__lte=now
    )
    scheduled.filter(
        ~Q(appointment__status=Appointment.Status.SCHEDULED)
        | ~Q(appointment__start=F("appointment_start"))
        | Q(appointment__start__lte=now)
    ).update(status=Reminder.Status.SKIPPED, skip_reason=SKIP_VISIT_CHANGED)
    token = uuid.uuid4()
    with transaction.atomic():
        # A queue's claim: rows another sweep holds are skipped, not waited for; the status
        # test in the UPDATE keeps a row from being claimed twice where locks do not exist.
        due = list(
            scheduled.select_for_update(skip_locked=True, of=("self",))
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Reminder.objects.filter(pk__in=due, status=Reminder.Status.SCHEDULED).update(
            status=Reminder.Status.SENDING, claim=token
        )
    return list(
        Reminder.objects.filter(claim=token, status=Reminder.Status.SENDING)
        .select_related("appointment__patient", "appointment__provider")
        .select_related("appointment__appointment_type")
        .order_by("due_at", "pk")
    )


def reminders_send_due(
    *, organization: Organization, policy: ReminderPolicy, now: datetime, limit: int = SEND_BATCH
) -> tuple[int, int]:
    """Claim and send up to `limit` due reminders. Returns (sent, skipped).

    One transaction for the batch: one commit for all its texts, and a worker that dies midway
    leaves its reminders scheduled (claim and texts roll back together) for the next sweep.
    The texts' delivery tasks are enqueued when it commits.
    """
    with transaction.atomic():
        claimed = reminders_claim(organization=organization, now=now, limit=limit)
        if not claimed:
            return 0, 0
        clinic_number = clinic_sms_number(organization=organization)
        sent = 0
        for reminder in claimed:
            sent += reminder_send(
                organization=organization,
                policy=policy,
                reminder=reminder,
                clinic_number=clinic_number,
            )
    return sent, len(claimed) - sent


def reminder_send(
    *,
    organization: Organization,
    policy: ReminderPolicy,
    reminder: Reminder,
    clinic_number: str,
) -> bool:
    """Send one claimed reminder into the patient's SMS thread; True if it was queued to send.

    An opted-out patient, a refused text or a clinic without a number mark it skipped, with why.
    """
    scope_required(organization)
    appointment = reminder.appointment
    try:
        if not clinic_number:
            raise SendRefused(SKIP_NO_NUMBER)
        with transaction.atomic():
            conversation = patient_conversation(
                organization=organization,
                patient_phone=appointment.patient.phone,
                clinic_number=clinic_number,
            )
            with translation.override(conversation_language_of(conversation)):
                words = appointment_words(appointment=appointment)
                body = reminder_render(reminder_template(policy.template), words)
            message = sms_send(
                organization=organization,
                conversation=conversation,
                body=body,
                metadata={"reminder_id": reminder.pk, "appointment_id": appointment.pk},
            )
            Reminder.objects.filter(pk=reminder.pk).update(
                status=Reminder.Status.SENT, message=message, sent_at=timezone.now()
            )
    except RecipientOptedOut:
        _skipped(reminder, "The patient has opted out of texts.")
        return False
    except SendRefused as exc:
        _skipped(reminder, str(exc))
        return False
    logger.info("reminder %s sent for appointment %s", reminder.pk, appointment.pk)
    return True


def _skipped(reminder: Reminder, reason: str) -> None:
    Reminder.objects.filter(pk=reminder.pk).update(
        status=Reminder.Status.SKIPPED, skip_reason=reason[:200]
    )


def patient_conversation(
    *, organization: Organization, patient_phone: str, clinic_number: str
) -> Conversation:
    """The patient's ongoing SMS thread with the clinic number, opened as a text would open it."""
    conversation, _created = conversation_open(
        organization=organization,
        session_id=sms_session_id(patient_phone=patient_phone, clinic_number=clinic_number),
        channel=Channel.SMS,
        from_number=patient_phone,
        to_number=clinic_number,
        metadata={"channel": "twilio_sms"},
        quiet_after=timedelta(hours=settings.LEXI_CONVERSATION_QUIET_HOURS),
    )
    return conversation


def appointment_words(*, appointment: Appointment) -> VisitWords:
    organization = appointment.organization
    return visit_words(
        first_name=appointment.patient.first_name,
        clinic=organization.name,
        visit_type=appointment.appointment_type.name,
        provider=appointment.provider.name,
        start=appointment.start.astimezone(organization.tzinfo),
    )


def reminders_sweep_clinic(
    *, organization: Organization, policy: ReminderPolicy, now: datetime
) -> SweepResult:
    """One sweep of one clinic at `now`: decide what came due, then send all that is due."""
    planned = reminders_decide(organization=organization, policy=policy, now=now)
    sent = skipped = 0
    while True:
        batch_sent, batch_skipped = reminders_send_due(
            organization=organization, policy=policy, now=now
        )
        sent, skipped = sent + batch_sent, skipped + batch_skipped
        if batch_sent + batch_skipped < SEND_BATCH:
            return SweepResult(planned=len(planned), sent=sent, skipped=skipped)


def appointment_change_notify(
    *, organization: Organization, policy: ReminderPolicy, appointment: Appointment, kind: str
) -> Message | None:
    """Text the patient that staff booked, moved or cancelled their visit (`kind`).

    Returns the stored text; None when the clinic turned these off or the visit is past.
    Raises SendRefused (RecipientOptedOut) when the text cannot go, with a reason for staff.
    """
    scope_required(organization)
    if not policy.notify_changes or appointment.start <= timezone.now():
        return None
    clinic_number = clinic_sms_number(organization=organization)
    if not clinic_number:
        raise SendRefused(SKIP_NO_NUMBER)
    with transaction.atomic():
        conversation = patient_conversation(
            organization=organization,
            patient_phone=appointment.patient.phone,
            clinic_number=clinic_number,
        )
        with translation.override(conversation_language_of(conversation)):
            body = change_notice_text(kind, appointment_words(appointment=appointment))
        return sms_send(
            organization=organization,
            conversation=conversation,
            body=body,
            metadata={"appointment_id": appointment.pk, "appointment_change": kind},
        )
