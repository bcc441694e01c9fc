"""Text Lexi from the terminal: a signed Twilio webhook to a running server, or in-process.

python manage.py sms --from +16195551234 --to +18504036622 "Hi, I'd like to book"
python manage.py sms --from +16195551234 --to +18504036622          # interactive chat
python manage.py sms --local ...                                     # no server needed

In the queued reply mode the webhook answers nothing inline: the command then waits for the
worker's reply in the database (the texts a worker or staff send this phone) and prints it.
Texts staff send from the console reach the "patient" too: after each text, on an empty line,
and every few seconds in an interactive chat (when this machine sees the server's database).
"""

import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, TextIO
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.test import Client
from django.test.utils import override_settings

from conversations.models import Message, Outcome
from conversations.selectors import messages_sent_after
from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from sms.selectors import message_last_id, texts_sent_to
from sms.twilio import twiml_messages
from tenants.scoping import tenant_scope
from tenants.selectors import organization_for_number

WEBHOOK_PATH = "/api/twilio/incoming-sms"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
HTTP_TIMEOUT_SECONDS = 30
LOCAL_ACCOUNT_SID = "AC" + "0" * 32
POLL_SECONDS = 3.0
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


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
        sender = _LocalSender(options) if options["local"] else _HttpSender(options)
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
    def __init__(self, options: dict[str, Any]) -> None:
        self.from_number: str = options["from_number"]
        self.to_number: str = options["to_number"]
        self.token = options["token"] or _configured_token(self.to_number)
        self.wait: float = options["wait"]

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
            "AccountSid": _account_sid(self.to_number),
            "From": self.from_number,
            "ApiVersion": "2010-04-01",
        }

    def send(self, params: dict[str, str]) -> list[str]:
        raise NotImplementedError


class _HttpSender(_Sender):
    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.url = options["url"].rstrip("/") + WEBHOOK_PATH
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise CommandError("--url must start with http:// or https://")
        if not self.token:
            raise CommandError(
                "No Twilio auth token to sign with, and the server refuses unsigned requests. "
                "Set TWILIO_AUTH_TOKEN (in .env or the environment, the same value the server "
                "runs with), pass --token, or use --local."
            )

    def send(self, params: dict[str, str]) -> list[str]:
        request = urllib.request.Request(  # noqa: S310 -- the URL is the operator's own server
            self.url,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": FORM_CONTENT_TYPE,
                SIGNATURE_HEADER: signature_compute(url=self.url, params=params, token=self.token),
            },
            method="POST",
        )
        try:
            # The developer's own server, named on the command line (http or https only).
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                return twiml_messages(response.read().decode())
        except urllib.error.HTTPError as exc:
            hint = ""
            if exc.code == 403:
                hint = " The signature was refused: sign with the server's TWILIO_AUTH_TOKEN."
            raise CommandError(f"The server answered {exc.code}.{hint}") from exc
        except urllib.error.URLError as exc:
            raise CommandError(
                f"Could not reach {self.url} ({exc.reason}). Is the server running (make run)?"
            ) from exc


class _LocalSender(_Sender):
    """Through the real view in this process: signed and verified like any other request."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "127.0.0.1")
        self.client = Client(SERVER_NAME=host, raise_request_exception=False)
        self.signed_url = (settings.PUBLIC_BASE_URL or f"http://{host}") + WEBHOOK_PATH
        # With no token configured, this process's server side gets a throwaway one: the
        # request is still signed and verified, nothing is switched off.
        self.server_token = settings.TWILIO_AUTH_TOKEN or self.token or secrets.token_hex(16)
        self.token = self.token or self.server_token

    def send(self, params: dict[str, str]) -> list[str]:
        signature = signature_compute(url=self.signed_url, params=params, token=self.token)
        # No worker needed in-process: a queued reply is answered right after the webhook.
        with override_settings(TWILIO_AUTH_TOKEN=self.server_token, TASKS=IMMEDIATE_TASKS):
            response = self.client.post(
                WEBHOOK_PATH,
                urlencode(params),
                content_type=FORM_CONTENT_TYPE,
                headers={SIGNATURE_HEADER: signature},
            )
        if response.status_code != 200:
            raise CommandError(f"The webhook answered {response.status_code}.")
        return twiml_messages(response.content.decode())


def _queued_replies(*, sid: str, to_number: str, wait: float) -> list[Message]:
    """Waits until the text `sid` is answered (or left to staff) and returns the texts sent to
    this phone after it: a queued reply, or a staff one. Empty when nothing could be found
    (e.g. a server on another machine)."""
    organization = _organization(to_number)
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
        self.organization = _organization(to_number)
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


def _configured_token(to_number: str) -> str:
    """The token the server would verify with: the clinic's own, else TWILIO_AUTH_TOKEN."""
    organization = _organization(to_number)
    if organization is not None and organization.twilio_auth_token:
        return organization.twilio_auth_token
    return settings.TWILIO_AUTH_TOKEN


def _account_sid(to_number: str) -> str:
    organization = _organization(to_number)
    if organization is not None and organization.twilio_auth_token:
        return organization.twilio_account_sid or LOCAL_ACCOUNT_SID
    return settings.TWILIO_ACCOUNT_SID or LOCAL_ACCOUNT_SID


def _organization(to_number: str) -> Any:
    try:
        return organization_for_number(to_number, channel="sms")
    except DatabaseError:
        return None  # talking to a server elsewhere, whose database this machine cannot see
