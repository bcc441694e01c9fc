"""One Lexi turn. Placeholder until the turn engine lands (issue: Lexi turn engine)."""

from django.utils import timezone

from conversations.models import Conversation, Message
from lexi.context import TurnReply


def run_turn(*, conversation: Conversation, message: Message) -> TurnReply:
    organization = conversation.organization
    timezone.now()
    return TurnReply(
        text=f"Hi! Welcome to {organization.name}. This is Lexi. How can I help you today?",
        engine="placeholder",
    )
