"""One reminder sweep with 100,000 future appointments on the books, 1,000 or 5,000 of them due.

    .venv/bin/python bench/reminders.py                 # seeds lexi_bench_reminders (~1 min)
    .venv/bin/python bench/reminders.py --future 20000  # smaller

Barton Dental gets 250 bench providers and 5,000 bench patients; each provider sees one
patient every half hour from 08:00 to 18:00, day after day, until `--future` visits are
booked. The sweep runs as if it were two days before the first day, at 09:30 (1,000 two-day
reminders due) and at 17:30 (5,000 due), on the same data reset in between, as lexi_app under
row-level security. Tasks go to the database backend (the delivery tasks are queued, not run),
texts to the locmem backend. Printed per case: queries and time to decide the reminders
(constant in the number due), to claim and store the texts (one conversation and one text per
patient), and an idle sweep a minute later (what every other minute costs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env  # after the path fix: run as a script
from bench.measure import django_setup, is_transaction_control, ms

DB = "lexi_bench_reminders"
CLINIC = "barton-dental"
PROVIDERS = 250
SLOTS = 20  # 08:00-18:00, every half hour
FIRST_DAY_OFFSET = 10  # the first bench day, in days from today
CASES = ((3, 1000), (19, 5000))  # (last slot due, reminders due)


def _first_day(tz: Any) -> Any:
    from django.utils import timezone

    return timezone.now().astimezone(tz).date() + timedelta(days=FIRST_DAY_OFFSET)


def seed(future: int) -> None:
    """As the table owner: providers, patients and `future` appointments, bulk inserted."""
    django_setup()
    from booking.models import Appointment, AppointmentType, Patient, Provider
    from tenants.models import Organization
    from tenants.scoping import tenant_scope

    organization = Organization.objects.get(slug=CLINIC)
    tz = organization.tzinfo
    with tenant_scope(organization):
        kind = AppointmentType.objects.create(
            organization=organization, name="Bench visit", duration_minutes=30
        )
        providers = Provider.objects.bulk_create(
            Provider(organization=organization, name=f"Bench Provider {n:03d}")
            for n in range(PROVIDERS)
        )
        patients = Patient.objects.bulk_create(
            Patient(
                organization=organization,
                first_name=f"Bench{n}",
                last_name="Patient",
                phone=f"+1415{5000000 + n:07d}",
            )
            for n in range(PROVIDERS * SLOTS)
        )
        day, rows = _first_day(tz), list[Appointment]()
        while len(rows) < future:
            for p, provider in enumerate(providers):
                for slot in range(SLOTS):
                    start = datetime.combine(day, time(8), tzinfo=tz) + timedelta(minutes=30 * slot)
                    rows.append(
                        Appointment(
                            organization=organization,
                            patient=patients[p * SLOTS + slot],
                            provider=provider,
                            appointment_type=kind,
                            start=start,
                            end=start + timedelta(minutes=30),
                            source=Appointment.Source.ADMIN,
                        )
                    )
            day += timedelta(days=1)
        Appointment.objects.bulk_create(rows[:future], batch_size=5000)


@dataclass
class Cost:
    statements: int = 0
    seconds: float = 0.0


def counted(action: Callable[[], Any]) -> tuple[Any, Cost]:
    """`action`'s result, wall time and SQL statements (savepoints aside), however many."""
    from django.db import connection

    cost = Cost()

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        cost.statements += not is_transaction_control(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = clock.perf_counter()
        result = action()
        cost.seconds = clock.perf_counter() - started
    return result, cost


def _send_all(organization: Any, policy: Any, now: datetime) -> tuple[int, int]:
    """What the send tasks do between them: batches of SEND_BATCH until none is left."""
    from reminders.services import reminders_send_due

    sent = skipped = 0
    while True:
        batch = reminders_send_due(organization=organization, policy=policy, now=now)
        sent, skipped = sent + batch[0], skipped + batch[1]
        if batch == (0, 0):
            return sent, skipped


def _case(organization: Any, now: datetime, due: int) -> dict[str, Any]:
    from booking.models import Appointment
    from conversations.models import Conversation
    from reminders.models import Reminder
    from reminders.selectors import policy_for
    from reminders.services import reminders_decide, reminders_send_due
    from tenants.scoping import tenant_scope

    later = now + timedelta(minutes=1)
    with tenant_scope(organization):
        Reminder.objects.all().delete()
        Conversation.objects.all().delete()
        policy = policy_for(organization=organization)
        future = Appointment.objects.filter(start__gt=now).count()
        planned, decide = counted(
            lambda: reminders_decide(organization=organization, policy=policy, now=now)
        )
        sent, send = counted(lambda: _send_all(organization, policy, now))
        _, idle = counted(
            lambda: (
                reminders_decide(organization=organization, policy=policy, now=later),
                reminders_send_due(organization=organization, policy=policy, now=later),
            )
        )
    assert len(planned) == due, (len(planned), due)  # noqa: S101 -- the bench checks itself
    assert sent == (due, 0), sent  # noqa: S101
    return {
        "future": future,
        "due": due,
        "decide_queries": decide.statements,
        "decide_ms": ms(decide.seconds),
        "send_queries": send.statements,
        "send_ms": ms(send.seconds),
        "send_queries_per_text": round(send.statements / due, 1),
        "idle_queries": idle.statements,
        "idle_ms": ms(idle.seconds),
    }


def measure() -> list[dict[str, Any]]:
    """As lexi_app: each case on the same data, reset before it."""
    django_setup()
    from tenants.models import Organization

    organization = Organization.objects.get(slug=CLINIC)
    tz = organization.tzinfo
    reminder_day = _first_day(tz) - timedelta(days=2)
    results = []
    for last_slot, due in CASES:
        now = datetime.combine(reminder_day, time(8), tzinfo=tz) + timedelta(minutes=30 * last_slot)
        results.append(_case(organization, now, due))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--future", type=int, default=100_000)
    parser.add_argument("--step", choices=("seed", "measure"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "seed":
        seed(args.future)
        return
    if args.step == "measure":
        for row in measure():
            print(" ".join(f"{k}={v}" for k, v in row.items()))
        return
    env.database_prepare(DB, fresh=True)
    for step, role in (("seed", env.OWNER_ROLE), ("measure", env.APP_ROLE)):
        subprocess.run(  # noqa: S603 -- our own script, fixed arguments
            [env.PYTHON, __file__, "--future", str(args.future), "--step", step],
            cwd=env.ROOT,
            env=env.django_env(DB, role=role, LEXI_SMS_BACKEND="locmem"),
            check=True,
        )


if __name__ == "__main__":
    main()
