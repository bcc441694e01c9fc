"""Playing Twilio from the terminal (`manage.py sms`, `manage.py call`): signed webhook posts to a
running server over HTTP, or through the real views in this process."""

import secrets
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.test import Client
from django.test.utils import override_settings

from frontdesk.credentials import twilio_credentials
from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from tenants.models import Organization
from tenants.selectors import organization_for_number

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
HTTP_TIMEOUT_SECONDS = 30
LOCAL_ACCOUNT_SID = "AC" + "0" * 32
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def simulated_clinic(to_number: str, *, channel: str) -> Organization | None:
    """The clinic the number routes to, if this machine sees the server's database."""
    try:
        return organization_for_number(to_number, channel=channel)
    except DatabaseError:
        return None  # talking to a server elsewhere, whose database this machine cannot see


def simulated_token(to_number: str, *, channel: str) -> str:
    """The token the server would verify with: the clinic's own, else TWILIO_AUTH_TOKEN."""
    organization = simulated_clinic(to_number, channel=channel)
    return twilio_credentials(organization=organization).auth_token


def simulated_account_sid(to_number: str, *, channel: str) -> str:
    organization = simulated_clinic(to_number, channel=channel)
    return twilio_credentials(organization=organization).account_sid or LOCAL_ACCOUNT_SID


class WebhookLine:
    """Where a simulated Twilio request goes; `post` returns the response body."""

    def post(self, path: str, params: dict[str, str]) -> str:
        raise NotImplementedError


class HttpLine(WebhookLine):
    """A running server at `base_url`, each request signed with `token`."""

    def __init__(self, base_url: str, *, token: str) -> None:
        self.base = base_url.rstrip("/")
        if urlsplit(self.base).scheme not in ("http", "https"):
            raise CommandError("--url must start with http:// or https://")
        if not token:
            raise CommandError(
                "No Twilio auth token to sign with, and the server refuses unsigned requests. "
                "Set TWILIO_AUTH_TOKEN (in .env or the environment, the same value the server "
                "runs with), pass --token, or use --local."
            )
        self.token = token

    def post(self, path: str, params: dict[str, str]) -> str:
        url = self.base + path
        request = urllib.request.Request(  # noqa: S310 -- the URL is the operator's own server
            url,
            data=urlencode(params).encode(),
            headers={
                "Content-Type": FORM_CONTENT_TYPE,
                SIGNATURE_HEADER: signature_compute(url=url, params=params, token=self.token),
            },
            method="POST",
        )
        try:
            # The developer's own server, named on the command line (http or https only).
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                return str(response.read().decode())
        except urllib.error.HTTPError as exc:
            hint = ""
            if exc.code == 403:
                hint = " The signature was refused: sign with the server's TWILIO_AUTH_TOKEN."
            raise CommandError(f"The server answered {exc.code}.{hint}") from exc
        except urllib.error.URLError as exc:
            raise CommandError(
                f"Could not reach {url} ({exc.reason}). Is the server running (make run)?"
            ) from exc


class LocalLine(WebhookLine):
    """Through the real views in this process: signed and verified like any other request.

    With no token configured, this process's server side gets a throwaway one: the request is
    still signed and verified, nothing is switched off. Tasks run at once (no worker needed).
    """

    def __init__(self, *, token: str) -> None:
        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "127.0.0.1")
        self.client = Client(SERVER_NAME=host, raise_request_exception=False)
        self.base = settings.PUBLIC_BASE_URL or f"http://{host}"
        self.server_token = settings.TWILIO_AUTH_TOKEN or token or secrets.token_hex(16)
        self.token = token or self.server_token

    def post(self, path: str, params: dict[str, str]) -> str:
        signature = signature_compute(url=self.base + path, params=params, token=self.token)
        with override_settings(TWILIO_AUTH_TOKEN=self.server_token, TASKS=IMMEDIATE_TASKS):
            response: Any = self.client.post(
                path,
                urlencode(params),
                content_type=FORM_CONTENT_TYPE,
                headers={SIGNATURE_HEADER: signature},
            )
        if response.status_code not in (200, 204):
            raise CommandError(f"The webhook answered {response.status_code}.")
        return str(response.content.decode())
