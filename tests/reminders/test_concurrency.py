"""Two sweeps at once on PostgreSQL: every reminder goes out once."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from conversations.models import Message
from reminders.models import Reminder
from reminders.selectors import policy_for
from reminders.services import reminders_sweep_clinic
from tenants.scoping import tenant_scope
from tests.factories import PatientFactory
from tests.reminders.conftest import NEW_YORK, at

VISIT = at(NEW_YORK, 2026, 12, 10, 8, 0)
VISITS = 12  # one an hour, 08:00 to 19:00: none in quiet hours
SWEEPS = 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sweeps_send_each_reminder_once(clinic, book, outbox):
    for n in range(VISITS):
        patient = PatientFactory(organization=clinic, phone=f"+1619556{n:04d}")
        book(VISIT + timedelta(hours=n), patient=patient)
    now = VISIT + timedelta(hours=VISITS) - timedelta(days=2)
    barrier = threading.Barrier(SWEEPS)
    errors: list[str] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            with tenant_scope(clinic):
                policy = policy_for(organization=clinic)
                reminders_sweep_clinic(organization=clinic, policy=policy, now=now)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(SWEEPS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(outbox) == VISITS
    assert set(Counter(t.to_number for t in outbox).values()) == {1}
    with tenant_scope(clinic):
        assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == VISITS
        assert Message.objects.filter(metadata__has_key="reminder_id").count() == VISITS
