"""Text Lexi from the terminal: a signed Twilio webhook to a running server, or in-process.

python manage.py sms --from +16195551234 --to +18504036622 "Hi, I'd like to book"
python manage.py sms --from +16195551234 --to +18504036622          # interactive chat
python manage.py sms --local ...                                     # no server needed

In the queued reply mode the webhook answers nothing inline: the command then waits for the
worker's reply in the database (the texts a worker or staff send this phone) and prints it.
Texts staff send from the console reach the "patient" too: after each text, on an empty line,
and every few seconds in an interactive chat (when this machine sees the server's database).
"""

import sys
import threading
import time
import uuid
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from conversations.models import Message, Outcome
from conversations.selectors import messages_sent_after
from frontdesk.simulator import (
    HTTP_TIMEOUT_SECONDS,
    HttpLine,
    LocalLine,
    WebhookLine,
    simulated_account_sid,
    simulated_clinic,
    simulated_token,
)
from sms.selectors import message_last_id, texts_sent_to
from sms.twilio import twiml_messages
from tenants.scoping import tenant_scope

WEBHOOK_PATH = "/api/twilio/incoming-sms"
POLL_SECONDS = 3.0


class Command(BaseCommand):
    help = "Send a text to Lexi as a patient would (a signed Twilio webhook) and print the reply."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", nargs="?", help="The message; omit it for an interactive chat.")
        parser.add_argument("--from", dest="from_number", required=True, help="Patient phone.")
        parser.add_argument("--to", dest="to_number", required=True, help="The clinic's number.")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="The running server's base URL."
        )
        parser.add_argument(
            "--local", action="store_true", help="Run in-process through the real view."
        )
        parser.add_argument(
            "--token", default="", help="Twilio auth token to sign with (default: the server's)."
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=HTTP_TIMEOUT_SECONDS,
            help="Seconds to wait for a queued reply (queued reply mode).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sender = _Sender(options)
        self.phone = _PhoneInbox(options["from_number"], options["to_number"])
        text = options["text"]
        if text is not None:
            self._send(sender, text)
            return
        stdin: TextIO = options.get("stdin") or sys.stdin
        interactive = stdin.isatty()
        stop = threading.Event()
        if interactive:
            self.stdout.write("Chatting with Lexi; Ctrl-D to quit.")
            threading.Thread(target=self._watch, args=(stop,), daemon=True).start()
        while True:
            if interactive:
                self.stdout.write("you> ", ending="")
                self.stdout.flush()
            line = stdin.readline()
            if not line:
                break
            if line.strip():
                self._send(sender, line.rstrip("\n"))
            else:
                self._show(self.phone.new_texts())
        stop.set()

    def _send(self, sender: "_Sender", text: str) -> None:
        params = sender.params(text)
        replies = sender.send(params)
        for reply in replies:
            self.stdout.write(f"lexi> {reply}")
        queued: list[Message] = []
        if not replies:
            queued = _queued_replies(
                sid=params["MessageSid"], to_number=sender.to_number, wait=sender.wait
            )
        shown = self._show(self.phone.new_texts())
        if not replies and not queued and not shown:
            self.stdout.write("lexi> (no reply)")

    def _show(self, texts: list[Message]) -> int:
        for message in texts:
            who = "staff" if message.role == Message.Role.STAFF else "lexi"
            self.stdout.write(f"{who}> {message.content}")
        return len(texts)

    def _watch(self, stop: threading.Event) -> None:
        while not stop.wait(POLL_SECONDS):
            self._show(self.phone.new_texts())


class _Sender:
    """The patient's phone: Twilio's parameters for each text, posted on `line`."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.from_number: str = options["from_number"]
        self.to_number: str = options["to_number"]
        self.wait: float = options["wait"]
        token = options["token"] or simulated_token(self.to_number, channel="sms")
        self.line: WebhookLine = (
            LocalLine(token=token) if options["local"] else HttpLine(options["url"], token=token)
        )

    def params(self, text: str) -> dict[str, str]:
        """The parameters Twilio sends for an inbound SMS."""
        sid = "SM" + uuid.uuid4().hex
        return {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": text,
            "FromCountry": "US",
            "To": self.to_number,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": simulated_account_sid(self.to_number, channel="sms"),
            "From": self.from_number,
            "ApiVersion": "2010-04-01",
        }

    def send(self, params: dict[str, str]) -> list[str]:
        return twiml_messages(self.line.post(WEBHOOK_PATH, params))


def _queued_replies(*, sid: str, to_number: str, wait: float) -> list[Message]:
    """Waits until the text `sid` is answered (or left to staff) and returns the texts sent to
    this phone after it: a queued reply, or a staff one. Empty when nothing could be found
    (e.g. a server on another machine)."""
    organization = simulated_clinic(to_number, channel="sms")
    if organization is None:
        return []
    give_up_at = time.monotonic() + wait
    with tenant_scope(organization):
        while time.monotonic() < give_up_at:
            inbound = Message.objects.filter(provider_message_id=sid).first()
            if inbound is None:
                return []
            if inbound.outcome != Outcome.QUEUED:
                return messages_sent_after(message=inbound)
            time.sleep(0.2)
    raise CommandError(
        f"No reply within {wait:g}s. Is the worker running? (`make run` starts it; or run "
        "`python manage.py db_worker`.)"
    )


class _PhoneInbox:
    """What the outbound path sent the patient's phone since the chat started, each once."""

    def __init__(self, from_number: str, to_number: str) -> None:
        self.phone = from_number
        self.organization = simulated_clinic(to_number, channel="sms")
        self.lock = threading.Lock()
        self.last_id = self._read(lambda o: message_last_id(organization=o), default=0)

    def new_texts(self) -> list[Message]:
        with self.lock:
            texts: list[Message] = self._read(
                lambda o: texts_sent_to(organization=o, phone=self.phone, after_id=self.last_id),
                default=[],
            )
            if texts:
                self.last_id = texts[-1].pk
            return texts

    def _read(self, query: Any, *, default: Any) -> Any:
        if self.organization is None:
            return default
        try:
            with tenant_scope(self.organization):
                return query(self.organization)
        except DatabaseError:
            return default  # a server elsewhere: only its replies are shown
