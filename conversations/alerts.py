"""Alert emails: a conversation needs staff. Only the clinic, the reason and a link; never what
the patient wrote (an email is not the place for health information)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation
from tenants.models import Membership, Organization
from tenants.scoping import scope_required

logger = logging.getLogger(__name__)

ALERT_INTERVAL = timedelta(minutes=15)
WAITING_REASON = "The patient texted while staff are handling the conversation."


def alert_recipients(*, organization: Organization) -> list[str]:
    """Email addresses of the clinic's active members who asked for alerts."""
    memberships = Membership.objects.filter(
        organization=organization, attention_alerts=True, user__is_active=True
    ).select_related("user")
    return sorted({m.user.email for m in memberships if m.user.email})


def attention_alert_send(*, organization: Organization, conversation_id: int) -> int:
    """Email the alert unless one went out for this conversation in the last ALERT_INTERVAL.

    The database decides: one UPDATE claims the interval, so concurrent runs send once. A
    failed send gives the claim back. Returns how many recipients were emailed.
    """
    scope_required(organization)
    recipients = alert_recipients(organization=organization)
    if not recipients:
        return 0
    now = timezone.now()
    claimed = (
        Conversation.objects.filter(pk=conversation_id, organization=organization)
        .filter(Q(alerted_at__isnull=True) | Q(alerted_at__lte=now - ALERT_INTERVAL))
        .update(alerted_at=now)
    )
    if not claimed:
        return 0
    conversation = Conversation.objects.get(pk=conversation_id)
    reason = conversation.attention_reason or WAITING_REASON
    link = settings.LEXI_CONSOLE_BASE_URL + reverse(
        "admin:conversations_conversation_change", args=[conversation.pk]
    )
    try:
        subject = f"[{organization.name}] A conversation needs you"
        body = (
            f"A conversation at {organization.name} needs a person.\n\n"
            f"Why: {reason}\n\nOpen it: {link}\n"
        )
        # One email each: staff do not see each other's addresses.
        send_mass_mail([(subject, body, None, [to]) for to in recipients])
    except Exception:
        Conversation.objects.filter(pk=conversation_id, alerted_at=now).update(alerted_at=None)
        logger.exception(
            "alert step=failed org=%s conversation=%s", organization.slug, conversation_id
        )
        raise
    logger.info(
        "alert step=sent org=%s conversation=%s recipients=%d",
        organization.slug,
        conversation_id,
        len(recipients),
    )
    return len(recipients)
