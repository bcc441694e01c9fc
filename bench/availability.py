"""Section 5: `slots_available` over 14 days with 5,000 appointments on the books.

Twenty bench providers work Monday to Saturday, 8:00-17:00; 5,000 thirty-minute appointments
fill their days from today on, leaving the last slot of each provider's day free, so the 14
days searched hold ~4,000 of them. Two searches: the default (the first free slots come on the
first day) and mornings only (the bench providers' mornings are all booked).
"""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from typing import Any

from bench import env
from bench.measure import counted, django_setup, median_ms

PROVIDERS = 20
APPOINTMENTS = 5000
SLOTS_PER_DAY = 18  # 8:00-17:00 in 30-minute slots; the last one stays free
CLINIC = "barton-dental"


def clinic_setup(appointments: int) -> tuple[Any, Any]:
    from django.utils import timezone

    from booking.models import Appointment, AppointmentType, Patient, Provider, ScheduleBlock
    from tenants.models import Organization
    from tenants.scoping import tenant_scope

    organization = Organization.objects.get(slug=CLINIC)
    with tenant_scope(organization):
        kind, _ = AppointmentType.objects.get_or_create(
            organization=organization,
            name="Bench visit",
            defaults={"duration_minutes": 30, "keywords": "bench"},
        )
        providers = []
        for number in range(1, PROVIDERS + 1):
            provider, created = Provider.objects.get_or_create(
                organization=organization, name=f"Bench Provider {number:02d}"
            )
            if created:
                ScheduleBlock.objects.bulk_create(
                    ScheduleBlock(
                        organization=organization,
                        provider=provider,
                        weekday=weekday,
                        start_time=time(8, 0),
                        end_time=time(17, 0),
                    )
                    for weekday in range(6)
                )
            providers.append(provider)
        # One patient per provider: a patient is never in two chairs at once.
        patients = {
            provider.pk: Patient.objects.get_or_create(
                organization=organization,
                first_name="Bench",
                last_name=f"Patient {number:02d}",
                defaults={"phone": "+14155550100"},
            )[0]
            for number, provider in enumerate(providers)
        }
        booked = Appointment.objects.filter(provider__in=providers, appointment_type=kind)
        if booked.count() != appointments:
            booked.delete()
            tz = organization.tzinfo
            rows: list[Appointment] = []
            day = timezone.now().astimezone(tz).date()
            while len(rows) < appointments:
                if day.weekday() < 6:
                    for provider in providers:
                        for slot in range(SLOTS_PER_DAY - 1):
                            start = datetime.combine(day, time(8, 0), tzinfo=tz) + timedelta(
                                minutes=30 * slot
                            )
                            rows.append(
                                Appointment(
                                    organization=organization,
                                    patient=patients[provider.pk],
                                    provider=provider,
                                    appointment_type=kind,
                                    start=start,
                                    end=start + timedelta(minutes=30),
                                    source=Appointment.Source.ADMIN,
                                )
                            )
                            if len(rows) == appointments:
                                break
                        if len(rows) == appointments:
                            break
                day += timedelta(days=1)
            Appointment.objects.bulk_create(rows, batch_size=1000)
    return organization, kind


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--appointments", type=int, default=APPOINTMENTS)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    django_setup()
    from django.utils import timezone

    from booking.models import Appointment
    from booking.selectors import slots_available
    from tenants.scoping import tenant_scope

    organization, kind = clinic_setup(args.appointments)
    # As a request has it: read at routing, after the providers were added (booking.clinic).
    organization.refresh_from_db()
    today = timezone.now().astimezone(organization.tzinfo).date()
    rows = []
    for name, part in (("first 20 slots, 14 days", None), ("mornings only", "morning")):

        def search(part_of_day: str | None = part) -> list[Any]:
            with tenant_scope(organization):
                return slots_available(
                    organization=organization,
                    appointment_type=kind,
                    start_date=today,
                    end_date=today + timedelta(days=13),
                    part_of_day=part_of_day,
                )

        search()  # warm-up
        samples = [counted(search) for _ in range(args.repeats)]
        with tenant_scope(organization):
            in_range = Appointment.objects.filter(
                start__date__lte=today + timedelta(days=13), appointment_type=kind
            ).count()
        rows.append(
            {
                "search": name,
                "slots": len(samples[0][0]),
                "appointments_in_range": in_range,
                "ms_median": median_ms([cost.seconds for _, cost in samples]),
                "queries": max(cost.statements for _, cost in samples),
            }
        )
    env.json_write(args.json_out, {"appointments": args.appointments, "rows": rows})


if __name__ == "__main__":
    main()
