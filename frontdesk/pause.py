"""The pause rule every channel keeps: while staff handle a conversation Lexi does not answer.

Staff start the pause by replying (or with "Pause Lexi"), Lexi by handing off to a person; it
ends with "Hand back to Lexi" or after LEXI_TAKEOVER_HOURS. Texts that arrive meanwhile are
stored, shown, and leave the patient waiting on staff.
"""

from datetime import datetime

from django.utils import timezone

from conversations.attention import conversation_waiting_mark
from conversations.models import Conversation, Message


def lexi_paused(*, conversation: Conversation, now: datetime | None = None) -> bool:
    """Whether staff have the conversation: Lexi must not answer the patient now."""
    until = conversation.lexi_paused_until
    return until is not None and until > (now or timezone.now())


def paused_text_keep(*, conversation: Conversation, message: Message) -> None:
    """A text Lexi leaves to staff: the patient now waits on them (alerting them once)."""
    conversation_waiting_mark(conversation=conversation, since=message.timestamp)
