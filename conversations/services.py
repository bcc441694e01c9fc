from typing import Any

from django.db.models import F
from django.utils import timezone

from conversations.models import Conversation, Message, ToolCall

PREVIEW_CHARS = 160


def message_log(
    *,
    conversation: Conversation,
    role: str,
    content: str,
    metadata: dict[str, Any] | None = None,
    provider_message_id: str | None = None,
) -> Message:
    """Store a message and bump the conversation's counter and preview in one UPDATE."""
    now = timezone.now()
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        role=role,
        content=content,
        timestamp=now,
        metadata=metadata or {},
        provider_message_id=provider_message_id,
    )
    preview = content[:PREVIEW_CHARS]
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1,
        last_message_at=now,
        last_message_preview=preview,
        updated_at=now,
    )
    conversation.last_message_at = now
    conversation.last_message_preview = preview
    conversation.updated_at = now
    return message


def conversation_flag(*, conversation: Conversation, reason: str) -> None:
    """Ask staff to look at this conversation (hand-off, failure, media...)."""
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_attention=True, attention_reason=reason[:300], updated_at=timezone.now()
    )
    conversation.needs_attention = True
    conversation.attention_reason = reason[:300]


def conversation_resolve(*, conversation: Conversation) -> None:
    """Staff dealt with it: clear the flag."""
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_attention=False, attention_reason="", updated_at=timezone.now()
    )
    conversation.needs_attention = False
    conversation.attention_reason = ""


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
    round: int = 0,  # noqa: A002 -- the model's field name
    engine: str = "",
) -> ToolCall:
    """Store one action Lexi took, whatever its outcome."""
    return ToolCall.objects.create(
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
