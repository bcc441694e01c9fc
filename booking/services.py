"""Writes for booking: register patients, book, reschedule and cancel appointments.

Each service is atomic, takes the organization explicitly and refuses objects of another one.
Availability is re-checked at write time with the provider row locked; on PostgreSQL the
exclusion constraint `APPOINTMENT_NO_OVERLAP` is the last word, on SQLite the IMMEDIATE
transactions (settings) serialize writers.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from booking.errors import (
    AppointmentNotChangeable,
    AppointmentNotFound,
    InvalidPatientData,
    PatientBusy,
    PatientNotFound,
    RepeatVisit,
    SlotInvalid,
    SlotTaken,
)
from booking.models import (
    APPOINTMENT_NO_OVERLAP,
    PATIENT_NO_OVERLAP,
    Appointment,
    AppointmentType,
    Closure,
    Patient,
    Provider,
    ScheduleBlock,
)
from booking.selectors import appointment_clash, booking_notice
from booking.slots import block_bounds, slot_decode
from conversations.models import Conversation
from tenants.clock import time_for_patient
from tenants.models import Organization
from tenants.phone import InvalidPhoneNumber, phone_normalize

logger = logging.getLogger(__name__)

MAX_AGE_YEARS = 125
MAX_NAME_LENGTH = 100


def _clean_name(value: str | None) -> str:
    name = " ".join((value or "").split())
    if not name or len(name) > MAX_NAME_LENGTH or not any(ch.isalpha() for ch in name):
        raise InvalidPatientData("Please tell me the patient's first and last name.")
    # Respect "McDonald" and "DeSouza"; only fix names typed all in one case.
    if name.islower() or name.isupper():
        name = name.title()
    return name


def _clean_date_of_birth(value: date | None) -> date | None:
    if value is None:
        return None
    today = timezone.localdate()
    if value > today or value.year < today.year - MAX_AGE_YEARS:
        raise InvalidPatientData("Please check the date of birth.")
    return value


@transaction.atomic
def patient_register(
    *,
    organization: Organization,
    first_name: str,
    last_name: str,
    phone: str,
    date_of_birth: date | None = None,
) -> Patient:
    """Create a patient, or return the existing one with this phone and name.

    An existing match whose date of birth is unknown gets the one given. Raises
    InvalidPatientData for an empty name, an unusable phone or an impossible date of birth.
    """
    first = _clean_name(first_name)
    last = _clean_name(last_name)
    born = _clean_date_of_birth(date_of_birth)
    try:
        normalized = phone_normalize(phone)
    except InvalidPhoneNumber as exc:
        raise InvalidPatientData("Please check the phone number.") from exc

    for existing in Patient.objects.filter(
        organization=organization,
        phone=normalized,
        first_name__iexact=first,
        last_name__iexact=last,
    ).order_by("created_at", "id"):
        if born is None or existing.date_of_birth in (None, born):
            if born is not None and existing.date_of_birth is None:
                existing.date_of_birth = born
                existing.save(update_fields=["date_of_birth"])
            return existing

    patient = Patient.objects.create(
        organization=organization,
        first_name=first,
        last_name=last,
        phone=normalized,
        date_of_birth=born,
    )
    logger.info("patient %s registered in organization %s", patient.pk, organization.pk)
    return patient


def _lock_providers(*, organization: Organization, provider_ids: set[int]) -> dict[int, Provider]:
    """Lock the providers' rows (in id order, so two writers never deadlock)."""
    locked = Provider.objects.select_for_update(of=("self",)).filter(
        organization=organization, pk__in=provider_ids
    )
    return {provider.pk: provider for provider in locked.order_by("pk")}


def _slot_recheck(
    *,
    organization: Organization,
    provider: Provider,
    appointment_type: AppointmentType,
    start: datetime,
    end: datetime,
) -> None:
    """Is this time still offered (in the schedule, not closed, not past)? Raises SlotInvalid."""
    if not provider.is_active or not appointment_type.is_active:
        raise SlotInvalid()
    if start < timezone.now() + booking_notice():
        raise SlotInvalid()
    tz = organization.tzinfo
    day = start.astimezone(tz).date()
    closed = Closure.objects.filter(organization=organization, date=day).filter(
        Q(provider__isnull=True) | Q(provider=provider)
    )
    if closed.exists():
        raise SlotInvalid()
    blocks = ScheduleBlock.objects.filter(
        organization=organization, provider=provider, weekday=day.weekday()
    ).values_list("start_time", "end_time")
    if not any(
        block_start <= start and end <= block_end
        for block_start, block_end in (block_bounds(day, s, e, tz) for s, e in blocks)
    ):
        raise SlotInvalid()


def _time_free(
    *,
    organization: Organization,
    provider: Provider,
    patient_id: int,
    start: datetime,
    end: datetime,
    ignore: Appointment | None = None,
) -> None:
    """Nobody else in the provider's chair, and the patient in no other chair, at that time.

    Raises SlotTaken or PatientBusy. `ignore` is the appointment being moved.
    """
    clash = appointment_clash(
        organization=organization,
        provider=provider,
        patient_id=patient_id,
        start=start,
        end=end,
        exclude_pk=ignore.pk if ignore is not None else None,
    )
    if clash is not None:
        raise PatientBusy() if clash.patient_busy else SlotTaken()


def _slot_bookable(
    *,
    organization: Organization,
    provider: Provider,
    appointment_type: AppointmentType,
    patient_id: int,
    start: datetime,
    end: datetime,
    ignore: Appointment | None = None,
) -> None:
    """Still offered, and free for the provider and the patient. Raises SlotInvalid, SlotTaken
    or PatientBusy; `ignore` is the appointment being moved."""
    _slot_recheck(
        organization=organization,
        provider=provider,
        appointment_type=appointment_type,
        start=start,
        end=end,
    )
    _time_free(
        organization=organization,
        provider=provider,
        patient_id=patient_id,
        start=start,
        end=end,
        ignore=ignore,
    )


REPEAT_VISIT_DAYS = 14


def _no_repeat_visit(
    *,
    organization: Organization,
    patient: Patient,
    appointment_type: AppointmentType,
    start: datetime,
) -> None:
    """Raise RepeatVisit when the patient has a scheduled visit of this type near `start`."""
    window = timedelta(days=REPEAT_VISIT_DAYS)
    existing = (
        Appointment.objects.filter(
            organization=organization,
            patient=patient,
            appointment_type=appointment_type,
            status=Appointment.Status.SCHEDULED,
            start__gt=max(start - window, timezone.now()),
            start__lt=start + window,
        )
        .order_by("start")
        .first()
    )
    if existing is None:
        return
    when = time_for_patient(existing.start, tz=organization.tzinfo)
    raise RepeatVisit(
        f"{patient.first_name} already has an upcoming {appointment_type.name} visit on {when} "
        f"(appointment_id {existing.pk}). Ask whether to move that visit "
        "(reschedule_appointment) or book another one as well (book_appointment with "
        "another_visit)."
    )


def _save_or_taken(appointment: Appointment, **kwargs: object) -> None:
    """Save; the no-overlap constraints turn a lost race into SlotTaken or PatientBusy."""
    try:
        with transaction.atomic():
            appointment.save(**kwargs)
    except IntegrityError as exc:
        if APPOINTMENT_NO_OVERLAP in str(exc):
            raise SlotTaken() from exc
        if PATIENT_NO_OVERLAP in str(exc):
            raise PatientBusy() from exc
        raise


def _resolve_slot(
    *, organization: Organization, slot_id: str, extra_provider_ids: set[int] | None = None
) -> tuple[Provider, AppointmentType, datetime, datetime]:
    ref = slot_decode(organization=organization, slot_id=slot_id)
    providers = _lock_providers(
        organization=organization, provider_ids={ref.provider_id, *(extra_provider_ids or ())}
    )
    provider = providers.get(ref.provider_id)
    appointment_type = AppointmentType.objects.filter(
        organization=organization, pk=ref.appointment_type_id
    ).first()
    if provider is None or appointment_type is None:
        raise SlotInvalid()
    end = ref.start + timedelta(minutes=appointment_type.duration_minutes)
    return provider, appointment_type, ref.start, end


@transaction.atomic
def appointment_book(
    *,
    organization: Organization,
    patient: Patient,
    slot_id: str,
    source: str = Appointment.Source.SMS,
    conversation: Conversation | None = None,
    notes: str = "",
    another_visit: bool = True,
) -> Appointment:
    """Book `patient` into the offered slot `slot_id`.

    Unless `another_visit`, a second visit of the same type for the same patient within
    REPEAT_VISIT_DAYS of one they have raises RepeatVisit: "anything sooner?" from a patient
    with a visit means moving it, and Lexi must ask rather than book twice.

    Raises PatientNotFound (patient of another organization), SlotInvalid (forged, tampered,
    another organization's, or no longer offered: past, closed, outside the schedule) and
    SlotTaken (an overlapping appointment exists) and PatientBusy (the patient has another
    appointment then). Nothing is written when it raises.
    """
    if source not in Appointment.Source.values:
        raise ValueError(f"Unknown appointment source {source!r}")
    if conversation is not None and conversation.organization_id != organization.pk:
        raise ValueError("The conversation belongs to another organization.")
    if patient.organization_id != organization.pk or patient.pk is None:
        raise PatientNotFound()
    provider, appointment_type, start, end = _resolve_slot(
        organization=organization, slot_id=slot_id
    )
    _slot_bookable(
        organization=organization,
        provider=provider,
        appointment_type=appointment_type,
        patient_id=patient.pk,
        start=start,
        end=end,
    )
    if not another_visit:
        _no_repeat_visit(
            organization=organization,
            patient=patient,
            appointment_type=appointment_type,
            start=start,
        )
    appointment = Appointment(
        organization=organization,
        patient=patient,
        provider=provider,
        appointment_type=appointment_type,
        start=start,
        end=end,
        source=source,
        conversation=conversation,
        notes=notes,
    )
    _save_or_taken(appointment)
    logger.info(
        "appointment %s booked with provider %s in organization %s",
        appointment.pk,
        provider.pk,
        organization.pk,
    )
    return appointment


def _lock_changeable(*, organization: Organization, appointment: Appointment) -> Appointment:
    if appointment.organization_id != organization.pk:
        raise AppointmentNotFound()
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(organization=organization, pk=appointment.pk)
        .first()
    )
    if locked is None:
        raise AppointmentNotFound()
    if locked.status != Appointment.Status.SCHEDULED or locked.start <= timezone.now():
        raise AppointmentNotChangeable()
    return locked


@transaction.atomic
def appointment_reschedule(
    *, organization: Organization, appointment: Appointment, slot_id: str
) -> Appointment:
    """Move the appointment to the offered slot, keeping the same row (id, patient, source).

    The old time is free as soon as this commits. The slot may name another provider or type.
    Raises AppointmentNotFound, AppointmentNotChangeable (not scheduled, or already started),
    SlotInvalid, SlotTaken and PatientBusy; nothing changes when it raises. Returns the row.
    """
    if appointment.organization_id != organization.pk:
        raise AppointmentNotFound()
    # Lock the providers before the appointment, as appointment_book does, so no deadlock.
    provider, appointment_type, start, end = _resolve_slot(
        organization=organization, slot_id=slot_id, extra_provider_ids={appointment.provider_id}
    )
    locked = _lock_changeable(organization=organization, appointment=appointment)
    _slot_bookable(
        organization=organization,
        provider=provider,
        appointment_type=appointment_type,
        patient_id=locked.patient_id,
        start=start,
        end=end,
        ignore=locked,
    )
    locked.provider = provider
    locked.appointment_type = appointment_type
    locked.start = start
    locked.end = end
    locked.time_set_at = timezone.now()
    locked.confirmed_at = None  # a confirmation was for the old time
    _save_or_taken(
        locked,
        update_fields=[
            "provider",
            "appointment_type",
            "start",
            "end",
            "time_set_at",
            "confirmed_at",
            "updated_at",
        ],
    )
    logger.info("appointment %s rescheduled in organization %s", locked.pk, organization.pk)
    return locked


@transaction.atomic
def appointment_cancel(
    *, organization: Organization, appointment: Appointment, reason: str = ""
) -> Appointment:
    """Cancel a scheduled, future appointment; its time is bookable again at once.

    Raises AppointmentNotFound (another organization's) and AppointmentNotChangeable (already
    cancelled, completed, a no-show or started). Returns the updated row.
    """
    locked = _lock_changeable(organization=organization, appointment=appointment)
    locked.status = Appointment.Status.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.cancellation_reason = " ".join(reason.split())[:300]
    locked.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
    logger.info("appointment %s cancelled in organization %s", locked.pk, organization.pk)
    return locked


def appointment_confirm(*, organization: Organization, appointment: Appointment) -> bool:
    """Record that the patient confirmed a scheduled, future visit; True if it is confirmed.

    Idempotent: a second confirmation keeps the first time. A cancelled, past or other clinic's
    appointment is not confirmed (False).
    """
    if appointment.organization_id != organization.pk:
        return False
    now = timezone.now()
    candidates = Appointment.objects.filter(
        organization=organization,
        pk=appointment.pk,
        status=Appointment.Status.SCHEDULED,
        start__gt=now,
    )
    if candidates.filter(confirmed_at__isnull=True).update(confirmed_at=now):
        appointment.confirmed_at = now
        logger.info("appointment %s confirmed in organization %s", appointment.pk, organization.pk)
        return True
    return candidates.exists()
