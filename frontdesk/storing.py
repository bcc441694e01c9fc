"""The writes every channel shares: Lexi's reply to a stored message, the fallback, a replay.

An inbound message's `outcome` says what became of it; its reply points back at it through
`in_reply_to`. A retried webhook (same provider id) is answered from those, never twice.
"""

from typing import Any

from django.db import transaction

from conversations.attention import conversation_hand_off
from conversations.models import Channel, Conversation, Message, Outcome
from conversations.segments import sms_segments
from conversations.selectors import message_reply
from conversations.services import message_log
from conversations.statements import message_outcome_locked
from frontdesk.outcomes import AnswerResult
from frontdesk.steplog import step_log
from tenants.models import Organization
from tenants.rows import hot_path_sql


def reply_store(
    *,
    conversation: Conversation,
    message: Message,
    outcome: str,
    text: str | None,
    metadata: dict[str, Any] | None = None,
    fell_back: bool = False,
    delivery_status: str = "",
    answered: list[Message] | None = None,
) -> Message | None:
    """Store Lexi's reply to `message`, then mark `message` (and `answered`) with `outcome`.

    `delivery_status` is QUEUED for a reply the outbound path will send, "" for one that goes
    back inline in the webhook's response. Returns the reply, or None when there is no text.
    """
    ids = [message.pk, *(m.pk for m in answered or [])]
    # Within an answer's transaction a failure here fails the whole answer: no savepoint.
    with transaction.atomic(savepoint=False):
        reply = None
        if text is not None:
            # The reply, the conversation's counter and what it answers: one statement.
            reply = message_log(
                conversation=conversation,
                role=Message.Role.ASSISTANT,
                content=text,
                metadata={**_text_metadata(conversation, text), **(metadata or {})},
                outcome=outcome,
                in_reply_to=message,
                fell_back=fell_back,
                delivery_status=delivery_status,
                answered=(outcome, ids),
            )
        else:
            Message.objects.filter(pk__in=ids).update(outcome=outcome)
    message.outcome = outcome
    return reply


def _text_metadata(conversation: Conversation, text: str) -> dict[str, Any]:
    if conversation.channel != Channel.SMS:
        return {}
    segments = sms_segments(text)
    return {"segments": segments.segments, "encoding": segments.encoding}


def fallback_store(
    *,
    conversation: Conversation,
    message: Message,
    text: str,
    error: str,
    reason: str,
    delivery_status: str = "",
    answered: list[Message] | None = None,
) -> Message | None:
    """Hand the conversation to staff with `reason` (the fallback promises a person: Lexi
    pauses), then store the polite fallback `text`."""
    conversation_hand_off(conversation=conversation, reason=reason)
    return reply_store(
        conversation=conversation,
        message=message,
        outcome=Outcome.FALLBACK,
        text=text,
        metadata={"error": error},
        fell_back=True,
        delivery_status=delivery_status,
        answered=answered,
    )


def answer_replayed(
    *, organization: Organization, message: Message, channel: str = "sms"
) -> AnswerResult:
    """The answer already given to `message`, for a retried webhook: never a second answer.

    The reply goes back inline only if it went inline the first time; a queued one is sent by
    the outbound path, once.
    """
    reply = message_reply(message=message)
    inline = reply is not None and reply.delivery_status == ""
    step_log(
        "duplicate",
        organization,
        channel=channel,
        conversation=message.conversation_id,
        outcome=message.outcome,
        replied=reply is not None,
    )
    return AnswerResult(
        text=reply.content if inline and reply is not None else None,
        outcome=message.outcome,
        conversation_id=message.conversation_id,
        duplicate=True,
    )


def answer_lock(*, message: Message) -> str:
    """Lock `message`'s row until the transaction ends and return its outcome as it is now.

    The answer holds it while it runs, so a retry of the same webhook waits for that answer
    instead of polling for it.
    """
    if hot_path_sql():
        outcome = message_outcome_locked(message=message)
        if outcome is None:
            raise Message.DoesNotExist(f"message {message.pk} is not there to answer")
    else:
        outcome = (
            Message.objects.select_for_update(of=("self",))
            .filter(pk=message.pk)
            .values_list("outcome", flat=True)
            .get()
        )
    message.outcome = outcome
    return str(outcome)
