"""Posting to the webhook the way a hostile or unlucky client would, and judging the answer."""

from typing import Any

from django.http import QueryDict
from django.test import Client

from conversations.models import Message
from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from sms.twilio import twiml_messages
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.twilio_helpers import FORM_CONTENT_TYPE, TEST_HOST, TEST_TOKEN, WEBHOOK_PATH

# What an exception or a stack trace leaves in a body; none may ever reach a caller.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "Exception",
    "Error(",
    "IntegrityError",
    "OperationalError",
    "DataError",
    "psycopg",
    "django.db",
    "site-packages",
)


def raw_signed_post(
    client: Client,
    raw: bytes,
    *,
    content_type: str = FORM_CONTENT_TYPE,
    token: str = TEST_TOKEN,
) -> Any:
    """POST `raw` bytes, signed over the params Django will parse out of them.

    Twilio signs the decoded params, so a body Django decodes with replacement characters is
    still a correctly signed request: whatever it parses to must be stored.
    """
    parsed = QueryDict(raw, encoding="utf-8")
    signature = signature_compute(url=TEST_HOST + WEBHOOK_PATH, params=parsed, token=token)
    return client.generic(
        "POST", WEBHOOK_PATH, raw, content_type=content_type, headers={SIGNATURE_HEADER: signature}
    )


def body_text(response: Any) -> str:
    return bytes(response.content).decode("utf-8", errors="replace")


def assert_no_leak(response: Any) -> None:
    """Never a 500, never exception text or a stack trace in what the caller reads."""
    assert response.status_code != 500, body_text(response)[:500]
    text = body_text(response)
    leaked = [marker for marker in LEAK_MARKERS if marker in text]
    assert not leaked, f"{leaked} in {text[:500]!r}"


def assert_polite_twiml(response: Any) -> list[str]:
    """A 200 with a well-formed TwiML document; returns its <Message> texts."""
    assert_no_leak(response)
    assert response.status_code == 200, body_text(response)[:500]
    assert response["Content-Type"].startswith("text/xml")
    return twiml_messages(body_text(response))


def assert_clear_refusal(response: Any, *statuses: int) -> None:
    """A 4xx (one of `statuses` when given), with no TwiML reply and nothing leaked."""
    assert_no_leak(response)
    assert 400 <= response.status_code < 500, (response.status_code, body_text(response)[:300])
    if statuses:
        assert response.status_code in statuses, response.status_code
    assert b"<Message>" not in response.content


def stored_inbound(organization: Organization, message_sid: str) -> Message | None:
    with tenant_scope(organization):
        return (
            Message.objects.filter(provider_message_id=message_sid, role=Message.Role.USER)
            .select_related("conversation")
            .first()
        )


def message_total(organization: Organization) -> int:
    with tenant_scope(organization):
        return Message.objects.count()
