"""POST /api/twilio/message-status: Twilio's delivery callbacks, verified with the sending
clinic's token, found by SID through a narrow lookup, forward-only and idempotent."""

from typing import Any

import pytest

from conversations.models import Conversation, Message
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory, MessageFactory
from tests.sms.conftest import CLINIC_A_NUMBER, PATIENT
from tests.twilio_helpers import TEST_TOKEN, form_post, signed_post

pytestmark = pytest.mark.django_db

STATUS_PATH = "/api/twilio/message-status"
CLINIC_B_TOKEN = "b" * 32


SID = "SM" + "a" * 32


def _sent_message(organization: Organization, sid: str = SID) -> Message:
    conversation = ConversationFactory.create(
        organization=organization, from_number=PATIENT, to_number=CLINIC_A_NUMBER
    )
    return MessageFactory.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content="See you Tuesday",
        provider_message_id=sid,
        delivery_status="sending",
    )


def _callback(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": PATIENT,
        "From": CLINIC_A_NUMBER,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def _post(client: Any, params: dict[str, str], token: str = TEST_TOKEN) -> Any:
    return signed_post(client, params, url=STATUS_PATH, token=token)


def _state(organization: Organization, message: Message) -> tuple[str, int | None, bool]:
    with tenant_scope(organization):
        message = Message.objects.get(pk=message.pk)
        flagged = Conversation.objects.get(pk=message.conversation_id).needs_attention
    return message.delivery_status, message.delivery_error_code, flagged


def test_statuses_are_recorded_in_order_and_answered_204(client, clinic_a):
    message = _sent_message(clinic_a)

    for status in ("sent", "delivered"):
        response = _post(client, _callback(SID, status))
        assert response.status_code == 204

    assert _state(clinic_a, message) == ("delivered", None, False)


def test_a_late_sent_never_overwrites_delivered(client, clinic_a):
    message = _sent_message(clinic_a)
    _post(client, _callback(SID, "delivered"))

    late = _post(client, _callback(SID, "sent"))

    assert late.status_code == 204
    assert _state(clinic_a, message) == ("delivered", None, False)


def test_the_same_callback_twice_changes_nothing_more(client, clinic_a):
    message = _sent_message(clinic_a)
    params = _callback(SID, "undelivered", ErrorCode="30003")

    first, second = _post(client, params), _post(client, params)

    assert (first.status_code, second.status_code) == (204, 204)
    assert _state(clinic_a, message) == ("undelivered", 30003, True)


def test_a_failed_delivery_is_explained_to_staff_in_words(client, clinic_a):
    message = _sent_message(clinic_a)

    _post(client, _callback(SID, "failed", ErrorCode="30006"))

    with tenant_scope(clinic_a):
        conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.needs_attention is True
    assert "landline" in conversation.attention_reason


def test_an_unsigned_callback_is_refused_and_changes_nothing(client, clinic_a):
    message = _sent_message(clinic_a)

    response = form_post(client, _callback(SID, "delivered"), url=STATUS_PATH)

    assert response.status_code == 403
    assert _state(clinic_a, message) == ("sending", None, False)


def test_a_forged_signature_is_refused_and_changes_nothing(client, clinic_a):
    message = _sent_message(clinic_a)

    response = _post(client, _callback(SID, "delivered"), token="x" * 32)

    assert response.status_code == 403
    assert _state(clinic_a, message) == ("sending", None, False)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"MessageStatus": "delivered"}, id="no-sid"),
        pytest.param(_callback("SM" + "a" * 32, "exploded"), id="unknown-status"),
        pytest.param(_callback("SM" + "a" * 32, "failed", ErrorCode="-4"), id="bad-code"),
        pytest.param(_callback("SM" + "a\x00" * 16, "sent"), id="nul"),
    ],
)
def test_a_garbled_callback_gets_a_400_and_changes_nothing(client, clinic_a, params):
    message = _sent_message(clinic_a)

    response = _post(client, params)

    assert response.status_code == 400
    assert _state(clinic_a, message) == ("sending", None, False)


def test_an_unknown_sid_gets_a_404_not_a_500(client, clinic_a):
    _sent_message(clinic_a)

    response = _post(client, _callback("SM" + "f" * 32, "delivered"))

    assert response.status_code == 404


def test_clinic_b_token_cannot_move_clinic_a_message(client, clinic_a, clinic_b):
    Organization.objects.filter(pk=clinic_a.pk).update(
        twilio_account_sid="AC" + "a" * 32, twilio_auth_token="a" * 32
    )
    Organization.objects.filter(pk=clinic_b.pk).update(
        twilio_account_sid="AC" + "b" * 32, twilio_auth_token=CLINIC_B_TOKEN
    )
    message = _sent_message(clinic_a)

    response = _post(
        client,
        _callback(SID, "failed", AccountSid="AC" + "b" * 32),
        token=CLINIC_B_TOKEN,
    )

    assert response.status_code == 403
    assert _state(clinic_a, message) == ("sending", None, False)


def test_an_inbound_text_with_that_sid_is_never_a_callback_target(client, clinic_a):
    conversation = ConversationFactory.create(organization=clinic_a)
    inbound = MessageFactory.create(
        conversation=conversation, role=Message.Role.USER, provider_message_id="SM" + "c" * 32
    )

    response = _post(client, _callback("SM" + "c" * 32, "failed"))

    assert response.status_code == 404
    with tenant_scope(clinic_a):
        assert Message.objects.get(pk=inbound.pk).delivery_status == ""
