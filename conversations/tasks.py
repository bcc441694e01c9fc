"""The conversations app's background work (Django Tasks): staff alert emails."""

from django.db import transaction
from django.tasks import task

from conversations.alerts import attention_alert_send
from conversations.models import Conversation
from tenants.models import Organization
from tenants.scoping import tenant_scope


@task
def attention_alert(organization_id: str, conversation_id: int) -> int:
    """Email the clinic's opted-in staff that a conversation needs them; safe to run twice
    (at most one email per conversation per ALERT_INTERVAL). Returns how many were sent."""
    organization = Organization.objects.get(pk=organization_id)
    with tenant_scope(organization):
        return attention_alert_send(organization=organization, conversation_id=conversation_id)


def attention_alert_enqueue(*, conversation: Conversation) -> None:
    """Alert staff about `conversation` once this transaction commits (before, a worker could
    run it and not yet see the flag)."""
    organization_id, conversation_id = str(conversation.organization_id), conversation.pk
    transaction.on_commit(
        lambda: attention_alert.enqueue(organization_id, conversation_id), robust=True
    )
