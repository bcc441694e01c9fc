"""What an engine is: given a turn's context and its history, produce the reply."""

from typing import Any, Protocol

from conversations.models import Message
from lexi.context import TurnContext, TurnReply


class EngineFailure(Exception):
    """The engine could not answer in time (deadline, rate limit, server error, loop)."""

    def __init__(self, reason: str, *, usage: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage or {}  # tokens already spent before it failed


class Engine(Protocol):
    name: str
    uses_history: bool  # False: the turn need not load the message window for it
    # True: it calls nothing over the network, so the channel may run the whole answer in one
    # transaction; False: it waits on a model, and no lock may be held meanwhile.
    answers_in_transaction: bool
    # True: when it fails, the offline engine answers instead; False: it is the last resort.
    falls_back: bool

    def reply(self, *, context: TurnContext, history: list[Message]) -> TurnReply:
        """Answer `context.message`. `history` is the prior window, oldest first, without it."""
        ...
