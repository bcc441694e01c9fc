"""Reminders' background work (Django Tasks): the periodic sweep, one clinic per task.

`reminders_sweep` is in LEXI_PERIODIC_TASKS: `manage.py lexi_clock` enqueues it every minute.
It enqueues one `reminders_sweep_clinic_task` per clinic with reminders on, which decides the
clinic's reminders and enqueues send tasks, so clinics and busy mornings spread over the
workers. All are safe to run twice, and at once: the reminder rows decide (see services).
"""

from datetime import datetime

from django.tasks import task
from django.utils import timezone

from lexi.background import task_enqueue
from reminders.selectors import organizations_reminding, policy_for
from reminders.services import (
    SEND_BATCH,
    reminders_decide,
    reminders_due_count,
    reminders_send_due,
)
from tenants.models import Organization
from tenants.scoping import tenant_scope


@task
def reminders_sweep(now: str = "") -> int:
    """Enqueue one clinic sweep per clinic with reminders on; returns how many."""
    at = now or timezone.now().isoformat()
    clinics = organizations_reminding()
    for organization, _policy in clinics:
        task_enqueue(reminders_sweep_clinic_task, str(organization.pk), at)
    return len(clinics)


@task
def reminders_sweep_clinic_task(organization_id: str, now: str) -> int:
    """Decide one clinic's reminders due by `now` (ISO 8601), then enqueue one send task per
    SEND_BATCH of them, so several workers share a busy morning. Returns how many are due."""
    organization = Organization.objects.get(pk=organization_id)
    with tenant_scope(organization):
        policy = policy_for(organization=organization)
        if not policy.enabled:
            return 0
        at = datetime.fromisoformat(now)
        reminders_decide(organization=organization, policy=policy, now=at)
        due = reminders_due_count(organization=organization, now=at)
    for _batch in range(-(-due // SEND_BATCH)):
        task_enqueue(reminders_send_task, organization_id, now)
    return due


@task
def reminders_send_task(organization_id: str, now: str) -> int:
    """Claim and send up to SEND_BATCH of the clinic's due reminders; returns how many went."""
    organization = Organization.objects.get(pk=organization_id)
    with tenant_scope(organization):
        policy = policy_for(organization=organization)
        at = datetime.fromisoformat(now)
        sent, _skipped = reminders_send_due(organization=organization, policy=policy, now=at)
    return sent
