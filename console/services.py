"""What staff do to a conversation from the console: reply, pause Lexi, hand back, assign,
mark read. Each is one service call plus a line in the conversation's history (the admin's
LogEntry: who, what, when), never the text itself.

Runs inside the conversation's tenant scope (the console's views open it).
"""

from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction

from conversations.attention import (
    conversation_answered_by_staff,
    conversation_assign,
    conversation_hand_back,
    conversation_pause,
    conversation_read_mark,
)
from conversations.models import Channel, Conversation, Message, Outcome
from conversations.segments import sms_segments
from conversations.services import conversation_reopen
from sms.outbound import SendRefused, sms_send
from tenants.models import Organization
from tenants.scoping import scope_required


def staff_action_log(*, user: Any, conversation: Conversation, action: str) -> None:
    """One line in the conversation's history, e.g. 'Paused Lexi'."""
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[conversation],
        action_flag=CHANGE,
        change_message=action,
        single_object=True,
    )


def staff_reply(
    *, organization: Organization, conversation: Conversation, body: str, user: Any
) -> Message:
    """Text the patient from the clinic's number as `user`, and pause Lexi (LEXI_TAKEOVER_HOURS).

    A completed conversation is reopened, so that the patient's answer lands in it.

    Raises SendRefused (or RecipientOptedOut) with a reason staff can read; then nothing is
    stored or sent.
    """
    scope_required(organization)
    if conversation.channel != Channel.SMS:
        raise SendRefused("Replies go out as texts; this conversation is not an SMS thread.")
    segments = sms_segments(body.strip())
    with transaction.atomic():  # a refused text leaves a completed conversation completed
        if not conversation_reopen(conversation=conversation):
            raise SendRefused(
                "This patient has a newer conversation; reply there so they see one thread."
            )
        message = sms_send(
            organization=organization,
            conversation=conversation,
            body=body,
            role=Message.Role.STAFF,
            sent_by=user,
            outcome=Outcome.STAFF,
            metadata={"segments": segments.segments, "encoding": segments.encoding},
        )
        conversation_answered_by_staff(conversation=conversation)
    staff_action_log(user=user, conversation=conversation, action="Replied to the patient")
    return message


def staff_pause(*, organization: Organization, conversation: Conversation, user: Any) -> None:
    """Pause Lexi without replying."""
    scope_required(organization)
    conversation_pause(conversation=conversation)
    staff_action_log(user=user, conversation=conversation, action="Paused Lexi")


def staff_hand_back(*, organization: Organization, conversation: Conversation, user: Any) -> None:
    """End the pause: Lexi answers the patient's next text."""
    scope_required(organization)
    conversation_hand_back(conversation=conversation)
    staff_action_log(user=user, conversation=conversation, action="Handed back to Lexi")


def staff_assign(
    *, organization: Organization, conversation: Conversation, user: Any, assignee: Any
) -> None:
    """Give the conversation to `assignee` (None: to nobody)."""
    scope_required(organization)
    conversation_assign(conversation=conversation, user=assignee)
    action = f"Assigned to {assignee.get_username()}" if assignee is not None else "Unassigned"
    staff_action_log(user=user, conversation=conversation, action=action)


def staff_read_mark(
    *, organization: Organization, conversation: Conversation, user: Any, read: bool
) -> None:
    """Move `user`'s unread marker on the conversation."""
    scope_required(organization)
    conversation_read_mark(conversation=conversation, user=user, read=read)
    staff_action_log(
        user=user, conversation=conversation, action="Marked read" if read else "Marked unread"
    )
