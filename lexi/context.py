from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conversations.models import Conversation, Message
from tenants.models import Organization


@dataclass
class TurnContext:
    """What a turn knows that the model must never choose: who, where, and when."""

    organization: Organization
    conversation: Conversation
    message: Message
    channel: str
    sender_phone: str
    now: datetime  # aware, in the organization's timezone
    engine: str = ""
    round: int = 0
    # A channel that cannot wait long (a caller on the line) shortens the model's deadline.
    deadline_seconds: float | None = None

    @property
    def reminder_about(self) -> dict[str, str]:
        """When this text answers an appointment reminder: its `appointment_id` and `action`
        (reschedule, cancel, or "" for anything else), as reminders/replies.py tagged it."""
        value = (self.message.metadata or {}).get("reminder")
        return value if isinstance(value, dict) else {}


@dataclass
class TurnReply:
    """The outcome of one turn: the text to send and what happened on the way."""

    text: str
    engine: str
    fell_back: bool = False
    flagged: bool = False
    usage: dict[str, Any] = field(default_factory=dict)
    tool_calls: int = 0
    stalled: bool = False  # it only asked again: the conversation did not move forward
