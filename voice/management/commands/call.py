"""Call Lexi from the terminal: type what the caller says, read what Lexi would say.

python manage.py call --from +16195551234 --to +18504036622            # interactive
python manage.py call --from ... --to ... "I'd like a cleaning" "the first one" "yes"
python manage.py call --local ...                                       # no server needed

Each line is one spoken turn (recognised with confidence 0.95); an empty line is silence. The
requests are Twilio's, signed: incoming-call, then the Gather action Lexi's TwiML names, and
call-status when the call ends.
"""

import secrets
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any, TextIO
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client
from django.test.utils import override_settings

from frontdesk.credentials import twilio_credentials
from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from tenants.selectors import organization_for_number

INCOMING_PATH = "/api/twilio/incoming-call"
STATUS_PATH = "/api/twilio/call-status"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
HTTP_TIMEOUT_SECONDS = 30
LOCAL_ACCOUNT_SID = "AC" + "0" * 32
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
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
        line: _Line = _LocalLine(options) if options["local"] else _HttpLine(options)
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
    def __init__(self, line: "_Line", from_number: str, to_number: str) -> None:
        self.line = line
        self.params = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": _account_sid(to_number),
            "From": from_number,
            "To": to_number,
            "Direction": "inbound",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
        }

    def post(self, path: str, extra: dict[str, str]) -> str:
        return self.line.post(path, {**self.params, **extra})


class _Line:
    def __init__(self, options: dict[str, Any]) -> None:
        self.token = options["token"] or _configured_token(options["to_number"])

    def post(self, path: str, params: dict[str, str]) -> str:
        raise NotImplementedError


class _HttpLine(_Line):
    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.base = options["url"].rstrip("/")
        if urlsplit(self.base).scheme not in ("http", "https"):
            raise CommandError("--url must start with http:// or https://")
        if not self.token:
            raise CommandError(
                "No Twilio auth token to sign with. Set TWILIO_AUTH_TOKEN (the server's), pass "
                "--token, or use --local."
            )

    def post(self, path: str, params: dict[str, str]) -> str:
        url = self.base + path
        request = urllib.request.Request(  # noqa: S310 -- the operator's own server
            url,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": FORM_CONTENT_TYPE,
                SIGNATURE_HEADER: signature_compute(url=url, params=params, token=self.token),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                return str(response.read().decode()) or "<Response/>"
        except urllib.error.HTTPError as exc:
            hint = " Sign with the server's TWILIO_AUTH_TOKEN." if exc.code == 403 else ""
            raise CommandError(f"The server answered {exc.code}.{hint}") from exc
        except urllib.error.URLError as exc:
            raise CommandError(
                f"Could not reach {url} ({exc.reason}). Is the server running (make run)?"
            ) from exc


class _LocalLine(_Line):
    """Through the real views in this process, signed and verified like any other request."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "127.0.0.1")
        self.client = Client(SERVER_NAME=host, raise_request_exception=False)
        self.base = settings.PUBLIC_BASE_URL or f"http://{host}"
        self.server_token = settings.TWILIO_AUTH_TOKEN or self.token or secrets.token_hex(16)
        self.token = self.token or self.server_token

    def post(self, path: str, params: dict[str, str]) -> str:
        signature = signature_compute(url=self.base + path, params=params, token=self.token)
        with override_settings(TWILIO_AUTH_TOKEN=self.server_token, TASKS=IMMEDIATE_TASKS):
            response = self.client.post(
                path,
                urlencode(params),
                content_type=FORM_CONTENT_TYPE,
                headers={SIGNATURE_HEADER: signature},
            )
        if response.status_code == 204:
            return "<Response/>"
        if response.status_code != 200:
            raise CommandError(f"The webhook answered {response.status_code}.")
        return response.content.decode()


def _configured_token(to_number: str) -> str:
    organization = organization_for_number(to_number, channel="voice")
    return twilio_credentials(organization=organization).auth_token


def _account_sid(to_number: str) -> str:
    organization = organization_for_number(to_number, channel="voice")
    return twilio_credentials(organization=organization).account_sid or LOCAL_ACCOUNT_SID
