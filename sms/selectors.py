from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection

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
    """The phone's opt-out state and its texts in this conversation since `since`: one query.

    Hand-written because it runs on every text: the ORM's annotated form of the same statement
    cost ten times as much (0.19 ms against 1.7 ms, see bench/).
    """
    opt_outs, messages = SmsOptOut._meta.db_table, Message._meta.db_table
    organization_id = Organization._meta.pk.get_db_prep_value(organization.pk, connection)
    since_value = Message._meta.get_field("timestamp").get_db_prep_value(since, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {opt_outs} "  # noqa: S608 -- table names, not input
            "WHERE organization_id = %s AND phone = %s AND opted_out), "
            f"(SELECT count(*) FROM {messages} WHERE organization_id = %s "
            "AND conversation_id = %s AND role = %s AND timestamp >= %s)",
            [
                organization_id,
                phone,
                organization_id,
                conversation.pk,
                Message.Role.USER,
                since_value,
            ],
        )
        opted_out, recent_texts = cursor.fetchone()
    return SenderStanding(opted_out=bool(opted_out), recent_texts=int(recent_texts))
