from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from conversations.models import Conversation, ConversationRead, Message, ToolCall
from tenants.models import Organization


def messages_recent(*, conversation: Conversation, limit: int) -> list[Message]:
    """The last `limit` messages, oldest first (the window Lexi remembers)."""
    newest_first = Message.objects.filter(conversation=conversation).order_by("-timestamp", "-id")[
        :limit
    ]
    return list(reversed(newest_first))


def replies_recent_metadata(*, conversation: Conversation, limit: int) -> list[dict[str, Any]]:
    """The metadata of Lexi's last `limit` replies in the conversation, newest first."""
    return list(
        Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT)
        .order_by("-timestamp", "-id")
        .values_list("metadata", flat=True)[:limit]
    )


def message_for_provider_id(
    *, organization: Organization, provider_message_id: str
) -> Message | None:
    """The message the provider (Twilio) knows by this id, in this organization."""
    return (
        Message.objects.filter(organization=organization, provider_message_id=provider_message_id)
        .select_related("conversation")
        .first()
    )


def message_reply(*, message: Message) -> Message | None:
    """The assistant message sent in answer to `message` (linked by in_reply_to)."""
    return (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            role=Message.Role.ASSISTANT,
            in_reply_to=message,
        )
        .order_by("timestamp", "id")
        .first()
    )


def messages_count_since(
    *, conversation: Conversation, role: str, since: datetime, outcome: str | None = None
) -> int:
    """How many messages of `role` (and `outcome`, if given) arrived at or after `since`."""
    queryset = Message.objects.filter(conversation=conversation, role=role, timestamp__gte=since)
    if outcome is not None:
        queryset = queryset.filter(outcome=outcome)
    return queryset.count()


def tool_calls_succeeded(*, message: Message, names: frozenset[str]) -> list[ToolCall]:
    """The actions among `names` that Lexi completed while answering `message`, in order."""
    return list(
        ToolCall.objects.filter(message=message, name__in=names, error="").order_by(
            "created_at", "id"
        )
    )


def messages_sent_after(*, message: Message) -> list[Message]:
    """What the clinic sent the patient (Lexi or staff) after `message`, oldest first."""
    return list(
        Message.objects.filter(
            conversation_id=message.conversation_id,
            role__in=(Message.Role.ASSISTANT, Message.Role.STAFF),
            id__gt=message.pk,
        ).order_by("timestamp", "id")
    )


def conversations_with_unread(*, queryset: QuerySet[Conversation], user: Any) -> QuerySet[Any]:
    """`queryset` annotated with `unread`: a message came after `user` last read it."""
    read = ConversationRead.objects.filter(
        conversation=OuterRef("pk"), user=user, read_at__gte=OuterRef("last_message_at")
    )
    return queryset.annotate(
        unread=ExpressionWrapper(
            Q(last_message_at__isnull=False) & ~Q(Exists(read)), output_field=BooleanField()
        )
    )
