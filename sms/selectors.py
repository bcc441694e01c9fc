from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from conversations.models import Conversation, Message
from frontdesk.storing import answer_lock
from reminders.selectors import reminder_id_last_sent
from sms.models import SmsOptOut
from tenants.models import Organization
from tenants.rows import hot_path_sql
from tenants.scoping import unscoped


@dataclass(frozen=True)
class SenderStanding:
    """What decides whether Lexi may answer a phone: its opt-out and its recent texts."""

    opted_out: bool
    recent_texts: int


def sender_standing(
    *, organization: Organization, conversation: Conversation, phone: str, since: datetime
) -> SenderStanding:
    """The phone's opt-out state and its texts in this conversation since `since`: one query.

    Hand-written because it runs on every text and the ORM's annotated form of the same
    statement costs several times as much (README, "Performance").
    """
    columns, params = _standing_columns(
        organization=organization, conversation=conversation, phone=phone, since=since
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", params)
        opted_out, recent_texts = cursor.fetchone()
    return SenderStanding(opted_out=bool(opted_out), recent_texts=int(recent_texts))


def _standing_columns(
    *, organization: Organization, conversation: Conversation, phone: str, since: datetime
) -> tuple[str, list[Any]]:
    """A sender's standing as two columns (opted out, texts since `since`) of a hand-written
    SELECT, and their parameters."""
    opt_outs, messages = SmsOptOut._meta.db_table, Message._meta.db_table
    organization_id = Organization._meta.pk.get_db_prep_value(organization.pk, connection)
    since_value = Message._meta.get_field("timestamp").get_db_prep_value(since, connection)
    columns = (
        f"EXISTS (SELECT 1 FROM {opt_outs} "  # noqa: S608 -- table names, not input
        "WHERE organization_id = %s AND phone = %s AND opted_out), "
        f"(SELECT count(*) FROM {messages} WHERE organization_id = %s "
        "AND conversation_id = %s AND role = %s AND timestamp >= %s)"
    )
    params = [organization_id, phone, organization_id, conversation.pk, Message.Role.USER]
    return columns, [*params, since_value]


@dataclass(frozen=True)
class TextStanding(SenderStanding):
    """A stored text, locked for its answer, and what the answering rules read about it."""

    outcome: str  # as it is now: not PENDING when the text was answered already
    reminder_id: int | None  # the reminder the clinic's last text before it was, if any


def text_standing_locked(
    *,
    organization: Organization,
    conversation: Conversation,
    message: Message,
    phone: str,
    since: datetime,
) -> TextStanding:
    """Lock `message` until the transaction ends (as frontdesk.storing.answer_lock does) and
    read the sender's standing (`sender_standing`) and the reminder it may answer
    (`reminder_id_last_sent`): one statement on PostgreSQL, where every text runs it.

    The other reads share the statement's snapshot, taken before a wait on the lock; a wait
    only happens for a retry of the same text, which the outcome then turns away.
    """
    if not hot_path_sql():
        outcome = answer_lock(message=message)
        standing = sender_standing(
            organization=organization, conversation=conversation, phone=phone, since=since
        )
        reminder_id = reminder_id_last_sent(conversation=conversation, message=message)
        return TextStanding(standing.opted_out, standing.recent_texts, outcome, reminder_id)
    messages = Message._meta.db_table
    organization_id = Organization._meta.pk.get_db_prep_value(organization.pk, connection)
    standing_sql, standing_params = _standing_columns(
        organization=organization, conversation=conversation, phone=phone, since=since
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH locked AS (SELECT outcome FROM {messages} "  # noqa: S608 -- table names
            "WHERE organization_id = %s AND id = %s FOR UPDATE) "
            f"SELECT (SELECT outcome FROM locked), {standing_sql}, "
            # As text: the backend hands jsonb back undecoded. A reminder id is a JSON integer.
            "(SELECT CASE jsonb_typeof(metadata -> 'reminder_id') WHEN 'number' "
            f"THEN metadata ->> 'reminder_id' END FROM {messages} WHERE organization_id = %s "
            "AND conversation_id = %s AND id < %s AND role IN (%s, %s) "
            "ORDER BY timestamp DESC, id DESC LIMIT 1)",
            [
                organization_id,
                message.pk,
                *standing_params,
                organization_id,
                conversation.pk,
                message.pk,
                Message.Role.ASSISTANT,
                Message.Role.STAFF,
            ],
        )
        outcome, opted_out, recent_texts, reminder_id = cursor.fetchone()
    message.outcome = outcome
    return TextStanding(
        opted_out=bool(opted_out),
        recent_texts=int(recent_texts),
        outcome=str(outcome),
        reminder_id=int(reminder_id) if reminder_id and reminder_id.isdigit() else None,
    )


def phone_opted_out(*, organization: Organization, phone: str) -> bool:
    """Whether `phone` told this clinic STOP (and has not said START since)."""
    return bool(
        SmsOptOut.objects.filter(organization=organization, phone=phone, opted_out=True).exists()
    )


def organization_for_message_sid(sid: str) -> Organization | None:
    """The organization that sent the text Twilio knows as `sid` (a status callback's only
    clue), through a narrow lookup that returns an organization and nothing of its rows."""
    if connection.vendor == "postgresql":
        owner_id = RawSQL("SELECT lexi_route_message_sid(%s)", [sid])
        return Organization.objects.filter(pk=owner_id).first()
    with unscoped():
        owner_id = (
            Message.objects.filter(provider_message_id=sid)
            .exclude(role=Message.Role.USER)
            .values_list("organization_id", flat=True)
            .first()
        )
    return Organization.objects.filter(pk=owner_id).first() if owner_id else None


def texts_sent_to(*, organization: Organization, phone: str, after_id: int) -> list[Message]:
    """Texts the outbound path sent (or is sending) to `phone` from this clinic, after message
    `after_id`, oldest first: what a patient's phone would show besides inline replies."""
    return list(
        Message.objects.filter(
            organization=organization,
            conversation__from_number=phone,
            role__in=(Message.Role.ASSISTANT, Message.Role.STAFF),
            pk__gt=after_id,
        )
        .exclude(delivery_status="")
        .order_by("pk")
    )


def message_last_id(*, organization: Organization) -> int:
    """The newest message id of the clinic (0 if none)."""
    last = Message.objects.filter(organization=organization).order_by("-pk").first()
    return last.pk if last is not None else 0
