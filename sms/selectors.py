from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce

from conversations.models import Conversation, Message
from sms.models import SmsOptOut
from tenants.models import Organization


@dataclass(frozen=True)
class TwilioCredentials:
    """What verifies a webhook: the auth token, and the AccountSid it must carry (if known)."""

    auth_token: str
    account_sid: str


def twilio_credentials(*, organization: Organization | None) -> TwilioCredentials:
    """The organization's own subaccount credentials when it has a token, else the global ones.

    An empty auth_token means nothing can verify the request: the caller must refuse it.
    """
    if organization is not None and organization.twilio_auth_token:
        return TwilioCredentials(organization.twilio_auth_token, organization.twilio_account_sid)
    return TwilioCredentials(settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID)


@dataclass(frozen=True)
class SenderStanding:
    """What decides whether Lexi may answer a phone: its opt-out and its recent texts."""

    opted_out: bool
    recent_texts: int


def sender_standing(
    *, organization: Organization, conversation: Conversation, phone: str, since: datetime
) -> SenderStanding:
    """The phone's opt-out state and its texts in this conversation since `since`: one query."""
    recent = (
        Message.objects.filter(
            conversation=OuterRef("pk"), role=Message.Role.USER, timestamp__gte=since
        )
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    opted_out, recent_texts = (
        Conversation.objects.filter(pk=conversation.pk)
        .annotate(
            opted_out=Exists(
                SmsOptOut.objects.filter(organization=organization, phone=phone, opted_out=True)
            ),
            recent_texts=Coalesce(Subquery(recent), 0),
        )
        .values_list("opted_out", "recent_texts")
        .get()
    )
    return SenderStanding(opted_out=opted_out, recent_texts=recent_texts)
