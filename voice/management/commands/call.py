"""Call Lexi from the terminal: type what the caller says, read what Lexi would say.

python manage.py call --from +16195551234 --to +18504036622            # interactive
python manage.py call --from ... --to ... "I'd like a cleaning" "the first one" "yes"
python manage.py call --local ...                                       # no server needed

Each line is one spoken turn (recognised with confidence 0.95); an empty line is silence. The
requests are Twilio's, signed: incoming-call, then the Gather action Lexi's TwiML names, and
call-status when the call ends.
"""

import sys
import uuid
from typing import Any, TextIO
from xml.etree import ElementTree

from django.core.management.base import BaseCommand, CommandParser

from frontdesk.simulator import (
    HttpLine,
    LocalLine,
    WebhookLine,
    simulated_account_sid,
    simulated_token,
)

INCOMING_PATH = "/api/twilio/incoming-call"
STATUS_PATH = "/api/twilio/call-status"
CONFIDENCE = "0.95"


class Command(BaseCommand):
    help = "Call Lexi as a patient would (signed Twilio voice webhooks); type what you say."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("said", nargs="*", help="What the caller says, turn by turn.")
        parser.add_argument("--from", dest="from_number", required=True, help="Caller's phone.")
        parser.add_argument("--to", dest="to_number", required=True, help="The clinic's number.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server's URL.")
        parser.add_argument("--local", action="store_true", help="Run in-process.")
        parser.add_argument("--token", default="", help="Twilio auth token to sign with.")

    def handle(self, *args: Any, **options: Any) -> None:
        token = options["token"] or simulated_token(options["to_number"], channel="voice")
        line: WebhookLine = (
            LocalLine(token=token) if options["local"] else HttpLine(options["url"], token=token)
        )
        call = _Call(line, options["from_number"], options["to_number"])
        action = self._show(call.post(INCOMING_PATH, {}))
        said: list[str] = options["said"]
        stdin: TextIO = options.get("stdin") or sys.stdin
        interactive = not said and stdin.isatty()
        if interactive:
            self.stdout.write("On the phone with Lexi; an empty line is silence, Ctrl-D hangs up.")
        turns = iter(said) if said else None
        while action:
            if turns is not None:
                words = next(turns, None)
            else:
                if interactive:
                    self.stdout.write("you> ", ending="")
                    self.stdout.flush()
                read = stdin.readline()
                words = read.rstrip("\n") if read else None
            if words is None:
                break
            extra = {"SpeechResult": words, "Confidence": CONFIDENCE} if words.strip() else {}
            action = self._show(call.post(action, extra))
        call.post(STATUS_PATH, {"CallStatus": "completed", "CallDuration": "60"})
        self.stdout.write("(call ended)")

    def _show(self, twiml: str) -> str:
        """Print what Lexi says and does; return where the caller's next words go ("" = end)."""
        root = ElementTree.fromstring(twiml)  # noqa: S314 -- our own server's TwiML
        action = ""
        for element in root.iter():
            if element.tag == "Say" and element.text:
                self.stdout.write(f"lexi> {element.text}")
            elif element.tag == "Gather":
                action = element.get("action", "")
            elif element.tag == "Dial":
                self.stdout.write(f"(Lexi puts the caller through to {element.text})")
            elif element.tag == "Hangup":
                self.stdout.write("(Lexi hangs up)")
        return action


class _Call:
    def __init__(self, line: WebhookLine, from_number: str, to_number: str) -> None:
        self.line = line
        self.params = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": simulated_account_sid(to_number, channel="voice"),
            "From": from_number,
            "To": to_number,
            "Direction": "inbound",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
        }

    def post(self, path: str, extra: dict[str, str]) -> str:
        return self.line.post(path, {**self.params, **extra}) or "<Response/>"
