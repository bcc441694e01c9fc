"""What receiving a message can come to: the result a channel renders, and the 503 error."""

from dataclasses import dataclass

from conversations.models import Outcome

__all__ = ["AnswerResult", "AnswerUnavailable", "Outcome"]


class AnswerUnavailable(Exception):
    """The database failed before the patient's message, or the answer to it, was stored.

    The webhook answers 503 so Twilio retries; a 200 would deliver a reply nobody can see.
    """


@dataclass(frozen=True)
class AnswerResult:
    """The answer for the webhook: the reply text (None = no reply) and what happened."""

    text: str | None
    outcome: str
    conversation_id: int | None = None
    duplicate: bool = False
