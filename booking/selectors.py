"""Reads for booking. Run inside the organization's tenant scope; each also filters by it."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from booking.clinic import clinic_data
from booking.models import Appointment, AppointmentType, Closure, Patient, Provider
from booking.slots import (
    PARTS_OF_DAY,
    BusyTimes,
    Slot,
    grid_starts,
    in_part_of_day,
    slot_encode,
)
from tenants.models import Organization
from tenants.phone import InvalidPhoneNumber, phone_normalize

__all__ = [
    "MAX_RANGE_DAYS",
    "Clash",
    "appointment_clash",
    "appointment_type_match",
    "appointment_types_active",
    "appointments_upcoming",
    "patient_find",
    "providers_active",
    "slots_available",
]

# A longer range is cut to this many days: the answer is the earliest `limit` slots anyway.
MAX_RANGE_DAYS = 92


def booking_notice() -> timedelta:
    return timedelta(minutes=getattr(settings, "BOOKING_MIN_NOTICE_MINUTES", 120))


def booking_step_minutes() -> int:
    return int(getattr(settings, "BOOKING_SLOT_MINUTES", 30))


def _local_midnight(day: date, tz: Any) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def slots_available(
    *,
    organization: Organization,
    appointment_type: AppointmentType,
    start_date: date,
    end_date: date,
    provider: Provider | None = None,
    part_of_day: str | None = None,
    from_time: time | None = None,
    limit: int = 20,
    exclude_appointment: Appointment | None = None,
) -> list[Slot]:
    """The first `limit` free slots from `start_date` to `end_date` (inclusive, local dates).

    Grid times inside schedule blocks where the type's whole duration fits, overlapping no
    scheduled appointment of the provider, not on a closure, not before now + minimum notice.
    Ordered by start, then provider name. Four queries whatever the range.
    `from_time` keeps starts at or after that local time of day, on every day.
    `exclude_appointment` (when rescheduling) lets its own time count as free.
    Raises ValueError for an unknown `part_of_day` ("morning", "afternoon", "evening").
    """
    if part_of_day is not None and part_of_day not in PARTS_OF_DAY:
        raise ValueError(f"part_of_day must be one of {sorted(PARTS_OF_DAY)} or None")
    if (
        limit <= 0
        or appointment_type.organization_id != organization.pk
        or not appointment_type.is_active
        or (provider is not None and provider.organization_id != organization.pk)
    ):
        return []
    tz = organization.tzinfo
    earliest = timezone.now() + booking_notice()
    start_date = max(start_date, earliest.astimezone(tz).date())
    end_date = min(end_date, start_date + timedelta(days=MAX_RANGE_DAYS - 1))
    if end_date < start_date:
        return []

    clinic = clinic_data(organization=organization)
    providers = {p.pk: p for p in clinic.providers if provider is None or p.pk == provider.pk}
    if not providers:
        return []

    blocks: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for hours in clinic.hours:
        if hours.provider_id in providers:
            blocks[hours.weekday].append((hours.provider_id, hours.start_time, hours.end_time))

    closed = set(
        Closure.objects.filter(
            organization=organization, date__gte=start_date, date__lte=end_date
        ).values_list("date", "provider_id")
    )

    range_start = _local_midnight(start_date, tz)
    range_end = _local_midnight(end_date + timedelta(days=1), tz)
    appointments = appointments_scheduled_between(
        organization=organization,
        start=range_start,
        end=range_end,
        exclude_pk=exclude_appointment.pk if exclude_appointment is not None else None,
    ).filter(provider_id__in=providers)
    booked: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for provider_id, start, end in appointments.values_list("provider_id", "start", "end"):
        booked[provider_id].append((start, end))
    busy = {provider_id: BusyTimes(booked[provider_id]) for provider_id in providers}

    ordered = list(providers.values())
    order = {p.pk: index for index, p in enumerate(ordered)}
    duration = timedelta(minutes=appointment_type.duration_minutes)
    step = booking_step_minutes()
    slots: list[Slot] = []
    day = start_date
    while day <= end_date and len(slots) < limit:
        if (day, None) not in closed:
            found: list[tuple[datetime, int, datetime]] = []
            for provider_id, start_time, end_time in blocks.get(day.weekday(), ()):
                if (day, provider_id) in closed:
                    continue
                for start, end in grid_starts(
                    day=day,
                    start_time=start_time,
                    end_time=end_time,
                    duration=duration,
                    step_minutes=step,
                    tz=tz,
                ):
                    if start < earliest or busy[provider_id].overlaps(start, end):
                        continue
                    local_start = start.astimezone(tz)
                    if not in_part_of_day(local_start, part_of_day):
                        continue
                    if from_time is not None and local_start.time() < from_time:
                        continue
                    found.append((start, order[provider_id], end))
            # Two blocks of one provider may overlap (a data-entry slip): offer each time once.
            for start, provider_index, end in sorted(set(found)):
                chosen = ordered[provider_index]
                slots.append(
                    Slot(
                        slot_id=slot_encode(
                            organization_id=organization.pk,
                            provider_id=chosen.pk,
                            start=start,
                            appointment_type_id=appointment_type.pk,
                        ),
                        provider=chosen,
                        appointment_type=appointment_type,
                        start=start.astimezone(tz),
                        end=end.astimezone(tz),
                    )
                )
                if len(slots) >= limit:
                    break
        day += timedelta(days=1)
    return slots


def patient_find(
    *,
    organization: Organization,
    phone: str,
    first_name: str | None = None,
    last_name: str | None = None,
) -> list[Patient]:
    """Patients of the organization with this phone (any format), names matched ignoring case."""
    try:
        normalized = phone_normalize(phone)
    except InvalidPhoneNumber:
        return []
    patients = Patient.objects.filter(organization=organization, phone=normalized)
    if first_name and first_name.strip():
        patients = patients.filter(first_name__iexact=" ".join(first_name.split()))
    if last_name and last_name.strip():
        patients = patients.filter(last_name__iexact=" ".join(last_name.split()))
    return list(patients.order_by("created_at", "id"))


def appointments_upcoming(
    *,
    organization: Organization,
    patient: Patient | None = None,
    phone: str | None = None,
) -> list[Appointment]:
    """Scheduled appointments starting now or later, soonest first.

    Narrowed to one patient and/or to every patient sharing a phone; the whole organization's
    when neither is given. An unparseable phone or another organization's patient gives [].
    """
    appointments = Appointment.objects.filter(
        organization=organization,
        status=Appointment.Status.SCHEDULED,
        start__gte=timezone.now(),
    )
    if patient is not None:
        if patient.organization_id != organization.pk:
            return []
        appointments = appointments.filter(patient=patient)
    if phone is not None:
        try:
            normalized = phone_normalize(phone)
        except InvalidPhoneNumber:
            return []
        appointments = appointments.filter(patient__phone=normalized)
    return list(
        appointments.select_related("patient", "provider", "appointment_type").order_by(
            "start", "id"
        )
    )


def appointment_types_active(*, organization: Organization) -> list[AppointmentType]:
    """By name (booking.clinic's cache: no query while the clinic's data is unchanged)."""
    return list(clinic_data(organization=organization).appointment_types)


def providers_active(*, organization: Organization) -> list[Provider]:
    """By name (booking.clinic's cache)."""
    return list(clinic_data(organization=organization).providers)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _term_match(words: list[str], term: str) -> tuple[int, range]:
    """How well the patient's words name `term` (0: not at all), and which words did.

    Spacing and hyphens don't matter ("check-up" = "check up" = "checkup"), and a word of five
    letters or more may be cut short or run on ("clean" ~ "cleaning", "cleaned" ~ "clean"),
    and plurals count ("exams" ~ "exam").
    Longer terms score higher, an exact match higher than a partial one.
    """
    target = "".join(_words(term))
    best: tuple[int, range] = (0, range(0))
    if not target:
        return best
    for size in range(1, min(len(words), 4) + 1):
        for index in range(len(words) - size + 1):
            gram = "".join(words[index : index + size])
            if gram == target:
                score = 2 * len(target) + 1
            elif gram in (f"{target}s", f"{target}es"):
                score = 2 * len(target)
            elif min(len(gram), len(target)) >= 5 and (
                gram.startswith(target) or target.startswith(gram)
            ):
                score = 2 * min(len(gram), len(target))
            else:
                continue
            if score > best[0]:
                best = (score, range(index, index + size))
    return best


def appointment_type_match(*, organization: Organization, text: str) -> AppointmentType | None:
    """The active type the patient's words name (its name or a keyword), or None.

    Where two types match the same words the more specific wins ("emergency exam" beats
    "exam"); two types named by different words ("exam and cleaning"), or a tie, are ambiguous
    and give None, so Lexi asks instead of guessing.
    """
    words = _words(text or "")
    if not words:
        return None
    matches: list[tuple[int, range, AppointmentType]] = []
    for appointment_type in appointment_types_active(organization=organization):
        terms = [appointment_type.name, *appointment_type.keyword_list]
        score, span = max((_term_match(words, term) for term in terms), key=lambda m: m[0])
        if score:
            matches.append((score, span, appointment_type))
    if not matches:
        return None
    matches.sort(key=lambda match: -match[0])
    best_score, best_span, best = matches[0]
    for score, span, _ in matches[1:]:
        overlapping = span.start < best_span.stop and best_span.start < span.stop
        if score == best_score or not overlapping:
            return None
    return best


def appointments_scheduled_between(
    *, organization: Organization, start: datetime, end: datetime, exclude_pk: int | None = None
) -> QuerySet[Appointment]:
    """Scheduled appointments overlapping [start, end) (cancelled ones free their time)."""
    scheduled = Appointment.objects.filter(
        organization=organization,
        status=Appointment.Status.SCHEDULED,
        start__lt=end,
        end__gt=start,
    )
    return scheduled.exclude(pk=exclude_pk) if exclude_pk is not None else scheduled


def appointment_overlapping(
    *,
    organization: Organization,
    start: datetime,
    end: datetime,
    provider: Provider | None = None,
    patient_id: int | None = None,
    exclude_pk: int | None = None,
) -> Appointment | None:
    """A scheduled appointment of `provider` (or of the patient) overlapping [start, end)."""
    clashes = appointments_scheduled_between(
        organization=organization, start=start, end=end, exclude_pk=exclude_pk
    )
    if provider is not None:
        clashes = clashes.filter(provider=provider)
    if patient_id is not None:
        clashes = clashes.filter(patient_id=patient_id)
    return clashes.order_by("start").first()


@dataclass(frozen=True)
class Clash:
    """What stands in the way of a time: an appointment in the provider's chair, or the
    patient's own appointment in any chair (`patient_busy`)."""

    appointment: Appointment
    patient_busy: bool


def appointment_clash(
    *,
    organization: Organization,
    provider: Provider,
    patient_id: int,
    start: datetime,
    end: datetime,
    exclude_pk: int | None = None,
) -> Clash | None:
    """The rule for every booking, Lexi's or staff's: nobody else in the provider's chair, and
    the patient in no other chair, during [start, end). The provider's clash is reported first.
    """
    whose: tuple[dict[str, Any], ...] = ({"provider": provider}, {"patient_id": patient_id})
    for which in whose:
        found = appointment_overlapping(
            organization=organization, start=start, end=end, exclude_pk=exclude_pk, **which
        )
        if found is not None:
            return Clash(appointment=found, patient_busy="patient_id" in which)
    return None


@dataclass(frozen=True)
class OfficeDay:
    """Whether the office sees patients on a day, and the closure's reason if it is closed."""

    day: date
    is_open: bool
    reason: str = ""


def office_day(*, organization: Organization, day: date) -> OfficeDay:
    """Open when an active provider has hours that weekday and no office-wide closure."""
    closure = Closure.objects.filter(
        organization=organization, date=day, provider__isnull=True
    ).first()
    if closure is not None:
        return OfficeDay(day=day, is_open=False, reason=closure.reason)
    has_hours = any(
        hours.weekday == day.weekday() for hours in clinic_data(organization=organization).hours
    )
    return OfficeDay(day=day, is_open=has_hours)
