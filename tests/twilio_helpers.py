"""Replay Twilio webhooks in tests: real payload samples, signed with the real RequestValidator."""

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from django.db import connection
from django.test import Client

from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from sms.twilio import twiml_messages

FIXTURES = Path(__file__).parent / "sms" / "fixtures"
WEBHOOK_PATH = "/api/twilio/incoming-sms"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
TEST_HOST = "http://testserver"
TEST_TOKEN = "0123456789abcdef0123456789abcdef"  # the shape of a Twilio auth token
TEST_ACCOUNT_SID = "AC3b9e2f7a41c84d0e9f6a5b4c3d2e1f00"


def new_message_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def twilio_payload(
    name: str = "inbound_sms", *, fresh_sid: bool = True, **overrides: Any
) -> dict[str, Any]:
    """A real inbound payload sample (tests/sms/fixtures/<name>.json) with fields overridden.

    A fresh MessageSid (and SmsSid/SmsMessageSid) by default, as every new text has its own.
    """
    params: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    if fresh_sid:
        sid = new_message_sid(params["MessageSid"][:2])
        params.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    params.update(overrides)
    return params


def signed_post(
    client: Client,
    params: dict[str, Any],
    *,
    url: str = WEBHOOK_PATH,
    token: str = TEST_TOKEN,
    signed_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST form-encoded `params` with X-Twilio-Signature computed as Twilio would."""
    signature = signature_compute(url=signed_url or TEST_HOST + url, params=params, token=token)
    return client.post(
        url,
        urlencode(params, doseq=True),
        content_type=FORM_CONTENT_TYPE,
        headers={SIGNATURE_HEADER: signature, **(headers or {})},
    )


def http_signed_post(
    http: httpx.Client, base_url: str, params: dict[str, Any], *, signed_base: str | None = None
) -> httpx.Response:
    """POST `params` to a running server's webhook, signed for `signed_base` (default: its URL)."""
    signature = signature_compute(
        url=(signed_base or base_url) + WEBHOOK_PATH, params=params, token=TEST_TOKEN
    )
    return http.post(
        base_url + WEBHOOK_PATH,
        content=urlencode(params),
        headers={"Content-Type": FORM_CONTENT_TYPE, SIGNATURE_HEADER: signature},
    )


def post_in_thread(params: dict[str, Any]) -> Any:
    """A signed post from a worker thread, on a client and connection of its own."""
    try:
        return signed_post(Client(), params)
    finally:
        connection.close()  # the thread's own connection, so the test database can be dropped


def form_post(client: Client, params: dict[str, Any], **kwargs: Any) -> Any:
    """POST form-encoded as Twilio does, without a signature unless given in headers."""
    return client.post(
        WEBHOOK_PATH, urlencode(params, doseq=True), content_type=FORM_CONTENT_TYPE, **kwargs
    )


def reply_texts(response: Any) -> list[str]:
    """The <Message> texts of a TwiML response."""
    return twiml_messages(response.content.decode())


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    """Settings a directory of webhook tests adds to the common ones (override in its conftest)."""
    return {}


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any, webhook_settings: dict[str, Any]) -> None:
    """What webhook tests run with: our test token, no proxy URL, no default clinic, and inline
    replies whatever the engine (the queued mode's tests ask for it).

    Autouse where a conftest imports it (tests/sms, tests/reliability).
    """
    settings.TWILIO_AUTH_TOKEN = TEST_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""
    settings.PUBLIC_BASE_URL = ""
    settings.LEXI_DEFAULT_ORGANIZATION = ""
    settings.LEXI_REPLY_MODE = "twiml"
    for name, value in webhook_settings.items():
        setattr(settings, name, value)
