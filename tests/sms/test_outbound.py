"""The outbound path: stored first, sent once through the real twilio SDK to a local Twilio,
retried only when Twilio did not take the text, and flagged when the outcome is unknown."""

from typing import Any

import pytest

from conversations.models import Conversation, Message
from sms.delivery import message_deliver
from sms.models import SmsOptOut
from sms.outbound import RecipientOptedOut, SendRefused, sms_send
from sms.sending import locmem
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory
from tests.sms.conftest import CLINIC_A_NUMBER, PATIENT
from tests.sms.twilio_server import FakeTwilio, Fault

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(clinic_a: Organization) -> Conversation:
    return ConversationFactory.create(
        organization=clinic_a, from_number=PATIENT, to_number=CLINIC_A_NUMBER
    )


def _send(
    organization: Organization, conversation: Conversation, capture: Any, body: str
) -> Message:
    with tenant_scope(organization), capture(execute=True):
        message = sms_send(organization=organization, conversation=conversation, body=body)
    return _reload(organization, message)


def _reload(organization: Organization, message: Message) -> Message:
    with tenant_scope(organization):
        return Message.objects.select_related("conversation").get(pk=message.pk)


def _deliver_again(organization: Organization, message: Message) -> str:
    with tenant_scope(organization):
        return message_deliver(organization=organization, message_id=message.pk).status


def test_a_text_is_stored_then_sent_from_the_clinic_number_with_a_status_callback(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks
):
    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "See you soon!")

    [sent] = twilio_server.sent
    assert (sent["From"], sent["To"], sent["Body"]) == (CLINIC_A_NUMBER, PATIENT, "See you soon!")
    assert sent["StatusCallback"] == "http://testserver/api/twilio/message-status"
    assert message.role == Message.Role.ASSISTANT
    assert message.delivery_status == "sending"  # Twilio took it; callbacks tell the rest
    assert message.provider_message_id == sent["Sid"]
    assert message.conversation.needs_attention is False


def test_nothing_is_sent_until_the_transaction_commits(clinic_a, conversation, twilio_server):
    with tenant_scope(clinic_a):
        message = sms_send(organization=clinic_a, conversation=conversation, body="Hi")

    assert twilio_server.requests == []
    assert _reload(clinic_a, message).delivery_status == "queued"


@pytest.mark.parametrize("fault", [429, 500, 503])
def test_twilio_busy_or_failing_is_retried_and_the_text_goes_out_once(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks, fault
):
    twilio_server.push(Fault(status=fault), Fault(status=fault))

    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Hello")

    assert len(twilio_server.requests) == 3
    assert len(twilio_server.sent) == 1
    assert message.delivery_status == "sending"
    assert message.provider_message_id == twilio_server.sent[0]["Sid"]


def test_a_send_task_run_twice_sends_once(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks
):
    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Once")

    assert _deliver_again(clinic_a, message) == "sending"
    assert len(twilio_server.sent) == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(delay=1.5, accept=True), id="slow"),
        pytest.param(Fault(status=201, body=b"<html>gateway</html>", accept=True), id="broken"),
    ],
)
def test_an_unknown_outcome_is_flagged_and_never_sent_again(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks, fault
):
    twilio_server.push(fault)

    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Maybe")
    again = _deliver_again(clinic_a, message)

    assert message.delivery_status == "unknown"
    assert again == "unknown"
    assert len(twilio_server.requests) == 1
    assert message.conversation.needs_attention is True
    assert "may not have been sent" in message.conversation.attention_reason


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (21211, "not valid"),
        (21408, "region"),
        (21612, "cannot be reached"),
        (21610, "opted out"),
    ],
)
def test_a_permanent_error_is_recorded_with_its_code_flagged_and_not_retried(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks, code, words
):
    twilio_server.push(Fault(status=400, code=code))

    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Hi")

    assert len(twilio_server.requests) == 1
    assert twilio_server.sent == []
    assert (message.delivery_status, message.delivery_error_code) == ("failed", code)
    assert message.conversation.needs_attention is True
    assert words in message.conversation.attention_reason


def test_twilio_reporting_unsubscribed_records_the_opt_out(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks
):
    twilio_server.push(Fault(status=400, code=21610))

    _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Hi")

    with tenant_scope(clinic_a):
        assert SmsOptOut.objects.get(phone=PATIENT).opted_out is True
        with pytest.raises(RecipientOptedOut):
            sms_send(organization=clinic_a, conversation=conversation, body="Again")


def test_retrying_stops_at_the_window_and_flags_the_conversation(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks, settings
):
    settings.LEXI_SEND_RETRY_WINDOW_SECONDS = 0.2
    settings.LEXI_SEND_BACKOFF_SECONDS = 0.05
    twilio_server.push(*[Fault(status=500) for _ in range(20)])

    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Hi")

    assert message.delivery_status == "failed"
    assert twilio_server.sent == []
    assert 2 <= len(twilio_server.requests) < 20
    assert message.conversation.needs_attention is True


def test_twilio_unreachable_is_retried_then_failed_not_unknown(
    clinic_a, conversation, twilio_server, django_capture_on_commit_callbacks, settings
):
    settings.LEXI_SEND_RETRY_WINDOW_SECONDS = 0.2
    settings.LEXI_SEND_BACKOFF_SECONDS = 0.05
    twilio_server.stop()  # connection refused: Twilio cannot have the text

    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Hi")

    assert message.delivery_status == "failed"
    assert message.conversation.needs_attention is True


def test_an_opted_out_patient_is_refused_and_nothing_is_stored(clinic_a, conversation):
    with tenant_scope(clinic_a):
        SmsOptOut.objects.create(organization=clinic_a, phone=PATIENT, keyword="STOP")
        with pytest.raises(RecipientOptedOut, match="opted out"):
            sms_send(organization=clinic_a, conversation=conversation, body="Hello?")
        assert Message.objects.count() == 0
    assert locmem.outbox == []


@pytest.mark.parametrize(("body", "words"), [("   ", "empty"), ("x" * 1601, "1,600")])
def test_an_empty_or_overlong_text_is_refused_with_a_clear_message(
    clinic_a, conversation, body, words
):
    with tenant_scope(clinic_a), pytest.raises(SendRefused, match=words):
        sms_send(organization=clinic_a, conversation=conversation, body=body)
    with tenant_scope(clinic_a):
        assert Message.objects.count() == 0


def test_a_clinic_with_its_own_subaccount_sends_with_its_own_credentials(
    org_a, settings, django_capture_on_commit_callbacks
):
    own = FakeTwilio(account_sid="AC" + "7" * 32, auth_token="own-token-of-the-clinic").start()
    try:
        settings.LEXI_SMS_BACKEND = "twilio"
        settings.TWILIO_API_BASE_URL = own.base_url
        settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32  # the platform's: the fake refuses it
        settings.TWILIO_AUTH_TOKEN = "platform-token"
        Organization.objects.filter(pk=org_a.pk).update(
            twilio_account_sid=own.account_sid, twilio_auth_token=own.auth_token
        )
        org_a.refresh_from_db()
        conversation = ConversationFactory.create(organization=org_a, from_number=PATIENT)

        message = _send(org_a, conversation, django_capture_on_commit_callbacks, "Hi")
    finally:
        own.stop()

    assert message.delivery_status == "sending"
    assert len(own.sent) == 1


def test_the_console_backend_prints_the_text_and_records_it_sent(
    clinic_a, conversation, settings, capsys, django_capture_on_commit_callbacks
):
    settings.LEXI_SMS_BACKEND = "console"

    message = _send(clinic_a, conversation, django_capture_on_commit_callbacks, "Printed")

    printed = capsys.readouterr().out
    assert "Printed" in printed
    assert f"To: {PATIENT}" in printed
    assert message.delivery_status == "sent"
