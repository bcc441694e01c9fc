from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations.models import Conversation, Message, ToolCall
from conversations.statements import (
    conversation_find_or_add,
    message_insert_counted,
    tool_call_insert,
)
from conversations.tasks import attention_alert_enqueue
from tenants.models import Organization
from tenants.rows import hot_path_sql

PREVIEW_CHARS = 160


def message_log(
    *,
    conversation: Conversation,
    role: str,
    content: str,
    metadata: dict[str, Any] | None = None,
    provider_message_id: str | None = None,
    conversation_metadata: dict[str, Any] | None = None,
    outcome: str = "",
    in_reply_to: Message | None = None,
    fell_back: bool = False,
    delivery_status: str = "",
    sent_by: Any = None,
    answered: tuple[str, list[int]] | None = None,
) -> Message:
    """Store a message and bump the conversation's counter and preview in the same statement.

    `conversation_metadata` keys are merged into the conversation's metadata there too, and
    `answered` (outcome, message ids) sets the outcome of the messages this one answers.
    """
    now = timezone.now()
    message = Message(
        organization_id=conversation.organization_id,
        conversation=conversation,
        role=role,
        content=content,
        timestamp=now,
        metadata=metadata or {},
        provider_message_id=provider_message_id,
        outcome=outcome,
        in_reply_to=in_reply_to,
        fell_back=fell_back,
        delivery_status=delivery_status,
        delivery_updated_at=now if delivery_status else None,
        sent_by=sent_by,
    )
    preview = content[:PREVIEW_CHARS]
    changes: dict[str, Any] = {
        "last_message_at": now,
        "last_message_preview": preview,
        "updated_at": now,
    }
    if conversation_metadata:
        conversation.metadata = changes["metadata"] = {
            **(conversation.metadata or {}),
            **conversation_metadata,
        }
    if hot_path_sql():
        message_insert_counted(
            message=message, conversation_changes=changes, outcome_marks=answered
        )
    else:
        message.save(force_insert=True)
        Conversation.objects.filter(pk=conversation.pk).update(
            message_count=F("message_count") + 1, **changes
        )
        if answered is not None:
            Message.objects.filter(pk__in=answered[1]).update(outcome=answered[0])
    conversation.last_message_at = now
    conversation.last_message_preview = preview
    conversation.updated_at = now
    return message


def conversation_flag(*, conversation: Conversation, reason: str) -> None:
    """Ask staff to look at this conversation (hand-off, failure, media...).

    The first flag (until staff clear it) starts the patient's wait and emails the clinic's
    staff who asked for alerts; a later one only updates the reason.
    """
    now = timezone.now()
    reason = reason[:300]
    flagged = Conversation.objects.filter(pk=conversation.pk, needs_attention=False).update(
        needs_attention=True,
        attention_reason=reason,
        waiting_since=Coalesce(F("waiting_since"), Value(now)),
        updated_at=now,
    )
    if flagged:
        attention_alert_enqueue(conversation=conversation)
    else:
        Conversation.objects.filter(pk=conversation.pk).update(
            attention_reason=reason, updated_at=now
        )
    conversation.needs_attention = True
    conversation.attention_reason = reason


def conversation_resolve(*, conversation: Conversation) -> None:
    """Staff dealt with it: clear the flag, and nobody waits on staff any more."""
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_attention=False, attention_reason="", waiting_since=None, updated_at=timezone.now()
    )
    conversation.needs_attention = False
    conversation.attention_reason = ""
    conversation.waiting_since = None


def tool_call_log(
    *,
    conversation: Conversation,
    message: Message | None,
    name: str,
    arguments: dict[str, Any],
    result: dict[str, Any] | None,
    error: str = "",
    duration_ms: int = 0,
    call_id: str = "",
    round: int = 0,
    engine: str = "",
) -> ToolCall:
    """Store one action Lexi took, whatever its outcome."""
    tool_call = ToolCall(
        organization_id=conversation.organization_id,
        conversation=conversation,
        message=message,
        name=name,
        arguments=arguments,
        result=result,
        error=error,
        duration_ms=duration_ms,
        call_id=call_id,
        round=round,
        engine=engine,
    )
    if hot_path_sql():
        tool_call_insert(tool_call=tool_call)
    else:
        tool_call.save(force_insert=True)
    return tool_call


def conversation_open(
    *,
    organization: Organization,
    session_id: str,
    channel: str,
    from_number: str,
    to_number: str,
    metadata: dict[str, Any] | None = None,
    quiet_after: timedelta | None = None,
) -> tuple[Conversation, bool]:
    """The ongoing conversation of (organization, session_id), opened if there is none.

    One quiet for longer than `quiet_after` is completed first and a new one opened. Safe under
    concurrent calls: the partial unique constraint picks one winner and the others re-read it.
    Returns (conversation, created).
    """
    last_error: IntegrityError | None = None
    carried: dict[str, Any] = {}  # what a new conversation keeps of the one it follows
    for _attempt in range(_OPEN_ATTEMPTS):
        new = Conversation(
            organization=organization,
            session_id=session_id,
            call_status=Conversation.Status.ONGOING,
            channel=channel,
            from_number=from_number,
            to_number=to_number,
            direction=Conversation.Direction.INBOUND,
            start_timestamp=timezone.now(),
            metadata={**carried, **(metadata or {})},
        )
        try:
            conversation, created = _conversation_find_or_add(new)
        except IntegrityError as exc:
            last_error = exc
            continue
        if not created and quiet_after is not None and _quiet_for(conversation) > quiet_after:
            conversation_complete(conversation=conversation)
            # The patient's language outlives the thread (a reminder days later is in it too).
            language = (conversation.metadata or {}).get("language")
            carried = {"language": language} if language else {}
            continue
        conversation.organization = organization  # the caller's, not re-read
        return conversation, created
    assert last_error is not None  # noqa: S101 -- only reachable after an IntegrityError
    raise last_error


_OPEN_ATTEMPTS = 4


def _conversation_find_or_add(new: Conversation) -> tuple[Conversation, bool]:
    if hot_path_sql():
        return conversation_find_or_add(conversation=new)
    # get_or_create inserts inside its own savepoint and re-reads on a conflict; what escapes
    # (IntegrityError) is a row that was closed meanwhile: the caller tries again.
    return Conversation.objects.get_or_create(
        organization_id=new.organization_id,
        session_id=new.session_id,
        call_status=Conversation.Status.ONGOING,
        defaults={
            "channel": new.channel,
            "from_number": new.from_number,
            "to_number": new.to_number,
            "direction": new.direction,
            "start_timestamp": new.start_timestamp,
            "metadata": new.metadata,
        },
    )


def _quiet_for(conversation: Conversation) -> timedelta:
    last = conversation.last_message_at or conversation.start_timestamp
    return timezone.now() - last


def conversation_complete(*, conversation: Conversation) -> None:
    """Close an ongoing conversation (idempotent: a completed one is left as it is)."""
    end = conversation.last_message_at or timezone.now()
    Conversation.objects.filter(pk=conversation.pk, call_status=Conversation.Status.ONGOING).update(
        call_status=Conversation.Status.COMPLETED, end_timestamp=end, updated_at=timezone.now()
    )
    conversation.call_status = Conversation.Status.COMPLETED
    conversation.end_timestamp = end


def conversation_reopen(*, conversation: Conversation) -> bool:
    """Make a completed conversation ongoing again, so that the patient's answer to a staff
    text lands in it (and finds Lexi paused) instead of opening a new one.

    False when the same session already has a newer ongoing conversation: only one may be
    ongoing, and the reply belongs there.
    """
    if conversation.call_status == Conversation.Status.ONGOING:
        return True
    try:
        with transaction.atomic():
            Conversation.objects.filter(
                pk=conversation.pk, call_status=Conversation.Status.COMPLETED
            ).update(
                call_status=Conversation.Status.ONGOING,
                end_timestamp=None,
                updated_at=timezone.now(),
            )
    except IntegrityError:
        return False
    conversation.call_status = Conversation.Status.ONGOING
    conversation.end_timestamp = None
    return True


def message_metadata_merge(*, message: Message, values: dict[str, Any]) -> None:
    """Set a few keys of a stored message's metadata (e.g. what became of it)."""
    message.metadata = {**(message.metadata or {}), **values}
    message.save(update_fields=["metadata"])


def conversation_patient_name_set(*, conversation: Conversation, name: str) -> None:
    """Remember which patient this phone turned out to be, for the staff console."""
    name = name[:200]
    if conversation.patient_name == name:
        return
    Conversation.objects.filter(pk=conversation.pk).update(patient_name=name)
    conversation.patient_name = name
