"""The Twilio webhook, replayed with real inbound payloads signed by the real RequestValidator.

Replies are asserted only on what the real Lexi engine guarantees (non-empty; the first reply
welcomes the patient to the clinic); everything else is asserted on what was stored.
"""

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from twilio.request_validator import RequestValidator

from conversations.models import Conversation, Message, ToolCall
from frontdesk.twilio import SIGNATURE_HEADER, SIGNATURE_SETTINGS_HEADER, signature_compute
from sms.models import SmsOptOut, UnroutedMessage
from tenants.models import Organization
from tenants.scoping import tenant_scope, unscoped
from tests.factories import PhoneNumberFactory
from tests.lexi.openai_server import text_completion
from tests.sms.conftest import CLINIC_A_NUMBER, CLINIC_B_NUMBER, PATIENT
from tests.twilio_helpers import (
    TEST_ACCOUNT_SID,
    TEST_HOST,
    TEST_TOKEN,
    WEBHOOK_PATH,
    form_post,
    reply_texts,
    signed_post,
    twilio_payload,
)

pytestmark = pytest.mark.django_db


def _conversations(organization: Organization) -> list[Conversation]:
    with tenant_scope(organization):
        return list(Conversation.objects.order_by("created_at", "id"))


def _messages(organization: Organization) -> list[Message]:
    with tenant_scope(organization):
        return list(Message.objects.order_by("timestamp", "id"))


def _all_message_count() -> int:
    with unscoped():
        return Message.objects.count()


def _all_conversation_count() -> int:
    with unscoped():
        return Conversation.objects.count()


def _text(client: Any, body: str, **overrides: Any) -> Any:
    return signed_post(client, twilio_payload(Body=body, **overrides))


# --- the lifecycle ---------------------------------------------------------------------------


def test_first_text_opens_a_conversation_stores_both_messages_and_welcomes(client, clinic_a):
    params = twilio_payload()
    response = signed_post(client, params)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    [reply] = reply_texts(response)
    assert "Welcome to Alpha Dental" in reply

    [conversation] = _conversations(clinic_a)
    assert conversation.session_id == "sms_16195551234_18504036622"
    assert conversation.channel == "sms"
    assert conversation.from_number == PATIENT
    assert conversation.to_number == CLINIC_A_NUMBER
    assert conversation.direction == "inbound"
    assert conversation.call_status == "ongoing"
    assert conversation.metadata == {
        "channel": "twilio_sms",
        "last_message_sid": params["MessageSid"],
        "language": "en",  # the fixture's text is plainly English
    }
    assert conversation.message_count == 2

    inbound, answer = _messages(clinic_a)
    assert (inbound.role, inbound.content) == ("user", params["Body"])
    assert inbound.provider_message_id == params["MessageSid"]
    assert inbound.metadata["message_sid"] == params["MessageSid"]
    assert inbound.metadata["from"] == PATIENT
    assert inbound.metadata["to"] == CLINIC_A_NUMBER
    assert inbound.metadata["segments"] == 1
    assert inbound.metadata["media_count"] == 0
    assert inbound.metadata["media_urls"] == []
    assert answer.role == "assistant"
    assert answer.content == reply
    assert answer.in_reply_to_id == inbound.pk
    assert answer.metadata["encoding"] in {"GSM-7", "UCS-2"}
    assert answer.metadata["segments"] >= 1
    assert answer.metadata["engine"]


def test_reply_is_twiml_from_the_messaging_response(client, clinic_a):
    response = _text(client, "Hello")

    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert body.endswith("</Message></Response>")


# --- signatures ------------------------------------------------------------------------------


def test_missing_signature_is_refused_and_nothing_is_stored(client, clinic_a):
    response = form_post(client, twilio_payload())

    assert response.status_code == 403
    assert _all_message_count() == 0
    assert _all_conversation_count() == 0


def test_signature_with_the_wrong_token_is_refused_and_nothing_is_stored(client, clinic_a):
    response = signed_post(client, twilio_payload(), token="f" * 32)

    assert response.status_code == 403
    assert _all_message_count() == 0


def test_body_changed_after_signing_is_refused(client, clinic_a):
    params = twilio_payload()
    signature = signature_compute(url=TEST_HOST + WEBHOOK_PATH, params=params, token=TEST_TOKEN)
    tampered = {**params, "Body": "Cancel all my appointments"}

    response = form_post(client, tampered, headers={SIGNATURE_HEADER: signature})

    assert response.status_code == 403
    assert _all_message_count() == 0


def test_no_auth_token_anywhere_refuses_even_with_debug_on(client, clinic_a, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    settings.DEBUG = True

    response = signed_post(client, twilio_payload(), token="")

    assert response.status_code == 403
    assert _all_message_count() == 0


def test_public_base_url_is_the_url_that_is_verified(client, clinic_a, settings):
    settings.PUBLIC_BASE_URL = "https://lexi.example.com"
    public = "https://lexi.example.com" + WEBHOOK_PATH

    refused = signed_post(client, twilio_payload())  # signed for http://testserver/...
    accepted = signed_post(client, twilio_payload(), signed_url=public)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert len(_messages(clinic_a)) == 2


def test_organization_with_its_own_token_is_verified_with_it(client, clinic_a):
    clinic_a.twilio_auth_token = "a" * 32
    clinic_a.twilio_account_sid = TEST_ACCOUNT_SID
    clinic_a.save()

    with_global = signed_post(client, twilio_payload(), token=TEST_TOKEN)
    with_own = signed_post(client, twilio_payload(), token="a" * 32)

    assert with_global.status_code == 403
    assert with_own.status_code == 200
    assert [m.role for m in _messages(clinic_a)] == ["user", "assistant"]


def test_mismatching_account_sid_is_refused(client, clinic_a):
    clinic_a.twilio_auth_token = "a" * 32
    clinic_a.twilio_account_sid = "AC00000000000000000000000000000000"
    clinic_a.save()

    response = signed_post(client, twilio_payload(), token="a" * 32)

    assert response.status_code == 403
    assert _all_message_count() == 0


def test_signature_uses_the_sha256_algorithm_when_twilio_says_so(client, clinic_a):
    params = twilio_payload()
    signature = RequestValidator(TEST_TOKEN).compute_signature(
        TEST_HOST + WEBHOOK_PATH, params, algorithm="HMAC_SHA256"
    )
    response = form_post(
        client,
        params,
        headers={
            SIGNATURE_HEADER: signature,
            SIGNATURE_SETTINGS_HEADER: "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
        },
    )

    assert response.status_code == 200


# --- routing ---------------------------------------------------------------------------------


def test_two_numbers_route_to_two_organizations_without_cross_contamination(
    client, clinic_a, clinic_b
):
    to_a = signed_post(client, twilio_payload(Body="Hello A"))
    to_b = signed_post(client, twilio_payload(Body="Hello B", To=CLINIC_B_NUMBER))

    assert "Welcome to Alpha Dental" in reply_texts(to_a)[0]
    assert "Welcome to Bravo Dental" in reply_texts(to_b)[0]
    assert [m.content for m in _messages(clinic_a) if m.role == "user"] == ["Hello A"]
    assert [m.content for m in _messages(clinic_b) if m.role == "user"] == ["Hello B"]
    [conversation_a] = _conversations(clinic_a)
    [conversation_b] = _conversations(clinic_b)
    assert conversation_a.to_number == CLINIC_A_NUMBER
    assert conversation_b.to_number == CLINIC_B_NUMBER


def test_messaging_service_sid_routes_a_number_that_is_not_mapped(client, org_a):
    PhoneNumberFactory(
        organization=org_a,
        number="+18504030000",
        messaging_service_sid="MG5d4c3b2a19f8e7d6c5b4a39281706f5e",
    )

    response = signed_post(client, twilio_payload("inbound_messaging_service"))

    assert response.status_code == 200
    assert reply_texts(response)
    [conversation] = _conversations(org_a)
    assert conversation.to_number == "+18504036699"


def test_text_to_an_unmapped_number_is_kept_for_staff_and_gets_empty_twiml(
    client, clinic_a, caplog
):
    params = twilio_payload(To="+12025550199")
    with caplog.at_level(logging.WARNING):
        response = signed_post(client, params)

    assert response.status_code == 200
    assert reply_texts(response) == []
    [unrouted] = UnroutedMessage.objects.all()
    assert unrouted.message_sid == params["MessageSid"]
    assert (unrouted.from_number, unrouted.to_number) == (PATIENT, "+12025550199")
    assert unrouted.body == params["Body"]
    assert unrouted.params["ToCity"] == "PANAMA CITY"
    assert _all_conversation_count() == 0
    assert "unrouted" in caplog.text
    assert "+12025550199" not in caplog.text


def test_unrouted_text_with_a_bad_signature_is_refused_and_not_kept(client, clinic_a):
    response = signed_post(client, twilio_payload(To="+12025550199"), token="f" * 32)

    assert response.status_code == 403
    assert not UnroutedMessage.objects.exists()


def test_unmapped_number_goes_to_the_default_organization_when_configured(
    client, clinic_a, settings
):
    settings.LEXI_DEFAULT_ORGANIZATION = clinic_a.slug

    response = signed_post(client, twilio_payload(To="+12025550199"))

    assert "Welcome to Alpha Dental" in reply_texts(response)[0]
    assert len(_conversations(clinic_a)) == 1
    assert not UnroutedMessage.objects.exists()


# --- idempotency -----------------------------------------------------------------------------


def test_duplicate_message_sid_is_processed_once_and_gets_the_same_reply(client, clinic_a):
    params = twilio_payload()

    first = signed_post(client, params)
    retry = signed_post(client, params)

    assert retry.status_code == 200
    assert retry.content == first.content
    assert [m.role for m in _messages(clinic_a)] == ["user", "assistant"]
    [conversation] = _conversations(clinic_a)
    assert conversation.message_count == 2


def test_duplicate_of_a_silent_message_stays_silent(client, clinic_a):
    params = twilio_payload(Body="STOP")

    signed_post(client, params)
    retry = signed_post(client, params)

    assert reply_texts(retry) == []
    assert len(_messages(clinic_a)) == 1


def test_same_message_sid_in_two_organizations_is_two_messages(client, clinic_a, clinic_b):
    params = twilio_payload()

    signed_post(client, params)
    signed_post(client, {**params, "To": CLINIC_B_NUMBER})

    assert len(_messages(clinic_a)) == 2
    assert len(_messages(clinic_b)) == 2


# --- conversations ---------------------------------------------------------------------------


def test_three_texts_from_one_patient_continue_one_conversation(client, clinic_a):
    replies = []
    for body in ["Hi, this is Maria", "I'd like a cleaning", "What did I say my name was?"]:
        response = _text(client, body)
        assert response.status_code == 200
        replies.extend(reply_texts(response))

    assert len(replies) == 3
    assert all(reply.strip() for reply in replies)
    [conversation] = _conversations(clinic_a)
    assert conversation.message_count == 6
    assert [m.role for m in _messages(clinic_a)] == ["user", "assistant"] * 3


def test_after_the_quiet_period_the_conversation_completes_and_a_new_one_opens(
    client, clinic_a, settings
):
    settings.LEXI_CONVERSATION_QUIET_HOURS = 24
    _text(client, "Hello")
    [old] = _conversations(clinic_a)
    with tenant_scope(clinic_a):
        Conversation.objects.filter(pk=old.pk).update(
            last_message_at=timezone.now() - timedelta(hours=25)
        )

    response = _text(client, "Hello again")

    assert "Welcome to Alpha Dental" in reply_texts(response)[0]
    first, second = _conversations(clinic_a)
    assert first.pk == old.pk
    assert first.call_status == "completed"
    assert first.end_timestamp is not None
    assert second.call_status == "ongoing"
    assert second.session_id == first.session_id


def test_a_text_within_the_quiet_period_continues_the_conversation(client, clinic_a):
    _text(client, "Hello")
    [conversation] = _conversations(clinic_a)
    with tenant_scope(clinic_a):
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=timezone.now() - timedelta(hours=23)
        )

    _text(client, "Still there?")

    [same] = _conversations(clinic_a)
    assert same.call_status == "ongoing"
    assert same.message_count == 4


# --- opt-out, opt-in, help -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "  Stop. ",
        "STOPALL",
        "Unsubscribe!",
        "cancel",
        "END",
        "quit",
        "REVOKE",
        "optout",
    ],
)
def test_opt_out_word_records_the_opt_out_and_gets_no_reply(client, clinic_a, body):
    response = _text(client, body)

    assert response.status_code == 200
    assert reply_texts(response) == []
    with tenant_scope(clinic_a):
        record = SmsOptOut.objects.get(phone=PATIENT)
    assert record.opted_out is True
    [message] = _messages(clinic_a)
    assert (message.role, message.content) == ("user", body)


def test_stop_inside_a_sentence_is_not_an_opt_out(client, clinic_a):
    response = _text(client, "Please don't stop reminding me")

    assert reply_texts(response)
    with tenant_scope(clinic_a):
        assert not SmsOptOut.objects.exists()


def test_opted_out_patients_messages_are_logged_but_never_answered(client, clinic_a):
    _text(client, "STOP")

    response = _text(client, "Can I book a cleaning?")

    assert reply_texts(response) == []
    messages = _messages(clinic_a)
    assert [m.role for m in messages] == ["user", "user"]
    assert messages[1].content == "Can I book a cleaning?"
    assert messages[1].outcome == "suppressed"


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_unstop_or_yes_opt_back_in(client, clinic_a, word):
    _text(client, "STOP")

    opt_in = _text(client, word)
    after = _text(client, "Can I book a cleaning?")

    assert reply_texts(opt_in) == []  # Twilio sends its own opt-in confirmation
    assert reply_texts(after)
    with tenant_scope(clinic_a):
        assert SmsOptOut.objects.get(phone=PATIENT).opted_out is False


def test_yes_is_a_dialogue_answer_when_the_patient_is_not_opted_out(client, clinic_a):
    _text(client, "Hello")

    response = _text(client, "yes")

    assert reply_texts(response)
    with tenant_scope(clinic_a):
        assert not SmsOptOut.objects.exists()
    assert _messages(clinic_a)[-1].role == "assistant"


def test_opt_out_is_per_organization(client, clinic_a, clinic_b):
    _text(client, "STOP")

    response = _text(client, "Hello", To=CLINIC_B_NUMBER)

    assert reply_texts(response)
    with tenant_scope(clinic_b):
        assert not SmsOptOut.objects.exists()


@pytest.mark.parametrize("word", ["HELP", "info", " Help? "])
def test_help_or_info_gets_the_help_text_with_the_office_phone(client, clinic_a, word):
    response = _text(client, word)

    [reply] = reply_texts(response)
    assert clinic_a.phone in reply
    assert "STOP" in reply
    assert _messages(clinic_a)[-1].outcome == "help"


# --- inputs and replies ----------------------------------------------------------------------


def test_nul_bytes_are_stripped_before_storing(client, clinic_a):
    response = _text(client, "Hi\x00 there\x00")

    assert response.status_code == 200
    assert _messages(clinic_a)[0].content == "Hi there"


def test_long_body_is_stored_whole(client, clinic_a):
    body = "I have a question about my bill. " * 150  # ~5,000 characters

    response = _text(client, body, NumSegments="33")

    assert response.status_code == 200
    inbound = _messages(clinic_a)[0]
    assert inbound.content == body
    assert inbound.metadata["segments"] == 33


def test_media_only_message_is_stored_answered_and_flagged(client, clinic_a):
    params = twilio_payload("inbound_mms")

    response = signed_post(client, params)

    [reply] = reply_texts(response)
    assert reply.startswith("I can't open pictures here")
    inbound = _messages(clinic_a)[0]
    assert inbound.metadata["media_count"] == 1
    assert inbound.metadata["media_urls"] == [params["MediaUrl0"]]
    assert inbound.metadata["media_types"] == ["image/jpeg"]
    [conversation] = _conversations(clinic_a)
    assert conversation.needs_attention is True


def test_reply_is_never_longer_than_1600_characters(client, clinic_a, openai_server):
    openai_server.push(text_completion("word " * 1000))

    [reply] = reply_texts(_text(client, "Tell me everything"))

    assert len(reply) <= 1600
    assert _messages(clinic_a)[-1].content == reply


def test_reply_segments_and_encoding_are_stored(client, clinic_a, openai_server):
    openai_server.push(text_completion("See you soon 😊"))

    _text(client, "Thanks")

    answer = _messages(clinic_a)[-1]
    assert answer.content == "See you soon 😊"
    assert answer.metadata["encoding"] == "UCS-2"
    assert answer.metadata["segments"] == 1
    assert answer.metadata["engine"] == "openai"
    assert answer.metadata["usage"]["total_tokens"] > 0


# --- failures --------------------------------------------------------------------------------


def _failing_once(table: str, role: str = "") -> Any:
    """A database fault: the first INSERT into `table` (for `role`, if given) fails."""
    failed: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, *args: Any) -> Any:
        inserting = f'INSERT INTO "{table}"' in sql
        if inserting and not failed and (not role or role in (params or ())):
            failed.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, *args)

    return wrapper


def test_lexi_failure_gets_a_polite_fallback_and_flags_the_conversation(client, clinic_a):
    # The turn's first action (logging a tool call) hits a database fault.
    with connection.execute_wrapper(_failing_once("conversations_toolcall")):
        response = _text(client, "What are your hours?")

    assert response.status_code == 200
    [reply] = reply_texts(response)
    assert "server closed" not in reply
    assert "OperationalError" not in reply
    assert clinic_a.phone in reply
    [conversation] = _conversations(clinic_a)
    assert conversation.needs_attention is True
    inbound, fallback = _messages(clinic_a)
    assert inbound.content == "What are your hours?"
    assert fallback.outcome == "fallback"
    with tenant_scope(clinic_a):
        assert not ToolCall.objects.exists()  # the failed answer left nothing half-written


def test_failure_storing_the_reply_still_gets_the_fallback(client, clinic_a):
    with connection.execute_wrapper(_failing_once("conversations_message", role="assistant")):
        response = _text(client, "Hello")

    assert response.status_code == 200
    [reply] = reply_texts(response)
    assert reply.startswith("Sorry")
    [conversation] = _conversations(clinic_a)
    assert conversation.needs_attention is True
    inbound, fallback = _messages(clinic_a)
    assert inbound.content == "Hello"
    assert fallback.content == reply


def test_database_down_before_storing_returns_503_so_twilio_retries(client, clinic_a):
    def database_down(*_: Any) -> None:
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        response = signed_post(client, twilio_payload())

    assert response.status_code == 503
    assert b"<Message>" not in response.content
    assert _all_message_count() == 0


def test_database_down_while_storing_the_message_returns_503(client, clinic_a):
    def insert_fails(execute: Any, sql: str, *args: Any) -> Any:
        if 'INSERT INTO "conversations_message"' in sql:
            raise OperationalError("server closed the connection")
        return execute(sql, *args)

    with connection.execute_wrapper(insert_fails):
        response = signed_post(client, twilio_payload())

    assert response.status_code == 503
    assert _all_message_count() == 0


# --- flood limit -----------------------------------------------------------------------------


def test_sender_over_the_limit_is_logged_and_told_to_slow_down_once(client, clinic_a, settings):
    settings.LEXI_SENDER_LIMIT_PER_MINUTE = 2

    replies = [reply_texts(_text(client, f"message {n}")) for n in range(5)]

    lexi_replies = [
        m for m in _messages(clinic_a) if m.role == "assistant" and m.metadata.get("engine")
    ]
    assert len(lexi_replies) == 2
    assert replies[0] == [lexi_replies[0].content]
    assert replies[1] == [lexi_replies[1].content]
    assert "slow" in replies[2][0].lower() or "wait" in replies[2][0].lower()
    assert replies[3] == []
    assert replies[4] == []
    inbound = [m for m in _messages(clinic_a) if m.role == "user"]
    assert len(inbound) == 5


# --- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["From", "To", "MessageSid"])
def test_missing_required_field_is_a_400(client, clinic_a, missing):
    params = twilio_payload()
    del params[missing]

    response = signed_post(client, params)

    assert response.status_code == 400
    assert missing in response.json()
    assert _all_message_count() == 0


def test_json_body_is_a_415(client, clinic_a):
    response = client.post(
        WEBHOOK_PATH,
        twilio_payload(),
        content_type="application/json",
        headers={"X-Twilio-Signature": "x"},
    )

    assert response.status_code == 415
    assert _all_message_count() == 0


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_a_405(client, clinic_a, method):
    response = getattr(client, method)(WEBHOOK_PATH)

    assert response.status_code == 405


# --- logs ------------------------------------------------------------------------------------


def test_logs_mask_phone_numbers_and_leave_out_bodies(client, clinic_a, caplog):
    with caplog.at_level(logging.INFO):
        _text(client, "my secret toothache story")

    assert "org=alpha-dental" in caplog.text
    assert "step=stored" in caplog.text
    assert "step=replied" in caplog.text
    assert PATIENT not in caplog.text
    assert CLINIC_A_NUMBER not in caplog.text
    assert "toothache" not in caplog.text


# --- Lexi turned off ---------------------------------------------------------------------------


def test_clinic_with_lexi_off_logs_and_flags_the_text_without_a_reply(client, clinic_a):
    Organization.objects.filter(pk=clinic_a.pk).update(lexi_enabled=False)

    response = _text(client, "Hi, can I book a cleaning?")

    assert response.status_code == 200
    assert reply_texts(response) == []
    [conversation] = _conversations(clinic_a)
    assert conversation.needs_attention is True
    [inbound] = _messages(clinic_a)
    assert inbound.content == "Hi, can I book a cleaning?"
    assert inbound.outcome == "staff_only"
    with tenant_scope(clinic_a):
        assert not conversation.tool_calls.exists()
