"""What receiving a text can come to: the result for the webhook, its outcome, the 503 error.

Kept apart from services.py so that storing and answering can use them without importing the
entry point that imports them.
"""

from dataclasses import dataclass


class SmsUnavailable(Exception):
    """The database failed before the patient's message, or the answer to it, was stored.

    The webhook answers 503 so Twilio retries; a 200 would deliver a reply nobody can see.
    """


class Outcome:
    """What became of an inbound text (stored on it as metadata.outcome)."""

    ANSWERED = "answered"
    HELP = "help"
    MEDIA = "media"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    SUPPRESSED = "suppressed"  # the phone is opted out: logged, not answered
    SLOWED = "slowed"  # over the flood limit: one "slow down" text per window
    THROTTLED = "throttled"  # over the flood limit, already told: no reply
    FALLBACK = "fallback"
    STAFF_ONLY = "staff_only"  # Lexi is off for this clinic: logged and flagged for staff


@dataclass(frozen=True)
class SmsResult:
    """The answer for the webhook: the reply text (None = no reply) and what happened."""

    text: str | None
    outcome: str
    conversation_id: int | None = None
    duplicate: bool = False
