"""A Twilio voice webhook's request as Lexi reads it: who calls whom, what they said, where the
call is (the Gather action's own query: the turn number, silences so far, what is awaited)."""

from dataclasses import dataclass
from typing import Any

MAX_SPEECH_CHARS = 1000  # a spoken turn; Twilio's speech results are far shorter
TAKE_MESSAGE = "message"


@dataclass(frozen=True)
class InboundCall:
    call_sid: str
    from_number: str
    to_number: str
    account_sid: str = ""
    speech: str = ""
    confidence: float | None = None
    turn: int = 0
    quiet: int = 0
    take: str = ""

    @property
    def session_id(self) -> str:
        return call_session_id(self.call_sid)

    @property
    def turn_id(self) -> str:
        """The id of this spoken turn: a retried Gather action carries the same one."""
        return f"{self.call_sid}:{self.turn}"

    @classmethod
    def from_params(
        cls, params: dict[str, Any], query: dict[str, Any] | None = None
    ) -> "InboundCall":
        query = query or {}
        speech = str(params.get("SpeechResult") or "").replace("\x00", "").strip()
        return cls(
            call_sid=str(params["CallSid"]),
            from_number=str(params.get("From") or params.get("Caller") or ""),
            to_number=str(params.get("To") or params.get("Called") or ""),
            account_sid=str(params.get("AccountSid") or ""),
            speech=speech[:MAX_SPEECH_CHARS],
            confidence=_float_or_none(params.get("Confidence")),
            turn=int(query.get("turn") or 0),
            quiet=int(query.get("quiet") or 0),
            take=str(query.get("take") or ""),
        )


def call_session_id(call_sid: str) -> str:
    return f"voice_{call_sid}"


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
