"""The SMS channel's background work (Django Tasks): as thin as views.

Each task takes ids, opens the tenant scope from the organization id, calls a service, and is
safe to run twice. Retrying is explicit here: a task that must look again later enqueues
itself again for then.
"""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from lexi.background import task_enqueue, task_enqueue_on_commit, tasks_defer_supported
from sms.delivery import deliveries_unfinished, delivery_abandon, message_deliver
from sms.replying import conversation_reply_due, conversations_awaiting_reply
from tenants.models import Organization
from tenants.scoping import tenant_scope, unscoped


@task
def sms_deliver(organization_id: str, message_id: int) -> str:
    """Send one stored outbound text (see sms.delivery.message_deliver)."""
    organization = Organization.objects.get(pk=organization_id)
    with tenant_scope(organization):
        return message_deliver(organization=organization, message_id=message_id).status


@task
def sms_reply(organization_id: str, conversation_id: int) -> int:
    """Answer a conversation's queued texts once quiet; again later if it is not yet time."""
    organization = Organization.objects.get(pk=organization_id)
    debounce = timedelta(seconds=_debounce_seconds())
    with tenant_scope(organization):
        run = conversation_reply_due(
            organization=organization, conversation_id=conversation_id, debounce=debounce
        )
    if run.retry_at is not None:
        task_enqueue(sms_reply, organization_id, conversation_id, run_after=run.retry_at)
    return run.replies


@task
def sms_recover() -> int:
    """The periodic sweep: work whose task was lost (a killed worker, a broker restart).

    Queued texts nobody is answering get a reply task; a text queued for sending gets its
    delivery task again; one left `sending` by a dead worker is marked unknown and flagged
    (never sent twice). Returns how many items it acted on.
    """
    now = timezone.now()
    lease = timedelta(seconds=settings.LEXI_TURN_LEASE_SECONDS)
    acted = 0
    with unscoped():  # platform work: find it across clinics, act on it in each one's scope
        waiting = conversations_awaiting_reply(quiet_since=now - lease)
        stuck = deliveries_unfinished(older_than=now - _send_deadline())
    for organization_id, conversation_id in waiting:
        task_enqueue(sms_reply, organization_id, conversation_id)
        acted += 1
    for organization_id, message_id, status in stuck:
        if status == "queued":
            task_enqueue(sms_deliver, organization_id, message_id)
        else:
            organization = Organization.objects.get(pk=organization_id)
            with tenant_scope(organization):
                delivery_abandon(organization=organization, message_id=message_id)
        acted += 1
    return acted


def sms_reply_enqueue(*, organization: Organization, conversation_id: int) -> None:
    """Ask a worker to answer the conversation once this transaction commits and it is quiet."""
    run_after = timezone.now() + timedelta(seconds=_debounce_seconds())
    task_enqueue_on_commit(sms_reply, str(organization.pk), conversation_id, run_after=run_after)


def sms_deliver_enqueue(*, organization: Organization, message_id: int) -> None:
    """Ask a worker to send the stored text once this transaction commits."""
    task_enqueue_on_commit(sms_deliver, str(organization.pk), message_id)


def _debounce_seconds() -> float:
    # Only a worker can wait: the immediate backend (tests, --local) answers at once.
    return settings.LEXI_REPLY_DEBOUNCE_SECONDS if tasks_defer_supported() else 0.0


def _send_deadline() -> timedelta:
    return timedelta(
        seconds=settings.LEXI_SEND_RETRY_WINDOW_SECONDS + settings.LEXI_SEND_TIMEOUT_SECONDS + 30
    )
