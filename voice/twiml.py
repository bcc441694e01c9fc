"""TwiML for calls: the one module of the voice channel that writes Twilio's voice markup."""

from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from voice.calls import TAKE_MESSAGE

VOICE_TURN_PATH = "/api/twilio/voice-turn"
DIAL_TIMEOUT_SECONDS = 20
NOBODY_ANSWERED = "Sorry, nobody could come to the phone. Our team will call you back. Goodbye."
LEAVE_A_MESSAGE = "Please tell me your message now, and our team will call you back."


class Then:
    """What the call does after Lexi has spoken."""

    GATHER = "gather"  # listen for the caller's next words
    DIAL = "dial"  # put the caller through to the office phone
    MESSAGE = "message"  # listen for a message for staff, then end
    HANGUP = "hangup"


@dataclass(frozen=True)
class VoiceStep:
    """One answer on the phone: what Lexi says, then what happens. Stored with the reply, so a
    retried request gets the very same TwiML."""

    say: str
    then: str = Then.GATHER
    turn: int = 1
    quiet: int = 0
    dial: str = ""

    def as_metadata(self) -> dict[str, object]:
        return {"then": self.then, "turn": self.turn, "quiet": self.quiet, "dial": self.dial}

    @classmethod
    def from_metadata(cls, say: str, data: dict[str, object] | None) -> "VoiceStep":
        data = data or {}
        return cls(
            say=say,
            then=str(data.get("then") or Then.HANGUP),
            turn=int(str(data.get("turn") or 1)),
            quiet=int(str(data.get("quiet") or 0)),
            dial=str(data.get("dial") or ""),
        )


def step_twiml(step: VoiceStep) -> str:
    response = VoiceResponse()
    if step.then in (Then.GATHER, Then.MESSAGE):
        query: dict[str, str | int] = {"turn": step.turn}
        if step.quiet:
            query["quiet"] = step.quiet
        say = step.say
        if step.then == Then.MESSAGE:
            query = {"turn": step.turn, "take": TAKE_MESSAGE}
            say = f"{say} {LEAVE_A_MESSAGE}".strip()
        gather = Gather(
            input="speech",
            speech_timeout="auto",
            action=f"{VOICE_TURN_PATH}?{urlencode(query)}",
            method="POST",
            action_on_empty_result=True,
        )
        gather.say(say)
        response.append(gather)
        return str(response)
    if step.say:
        response.say(step.say)
    if step.then == Then.DIAL and step.dial:
        response.dial(step.dial, timeout=DIAL_TIMEOUT_SECONDS)
        response.say(NOBODY_ANSWERED)
    response.hangup()
    return str(response)
