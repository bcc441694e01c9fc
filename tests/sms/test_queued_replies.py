"""The queued reply mode: the webhook stores and acknowledges at once, a worker answers a
burst of texts with one turn, in order, one worker per conversation at a time."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from sms.replying import conversation_reply_due
from sms.sending import locmem
from sms.tasks import sms_recover
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory, MessageFactory
from tests.lexi.openai_server import text_completion
from tests.sms.conftest import PATIENT
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture(autouse=True)
def _queued(settings: Any) -> None:
    settings.LEXI_REPLY_MODE = "queued"


def _text(client: Any, body: str) -> Any:
    return signed_post(client, twilio_payload(Body=body))


def _messages(organization: Organization) -> list[Message]:
    with tenant_scope(organization):
        return list(Message.objects.order_by("timestamp", "id"))


def _reply_due(organization: Organization, debounce: float = 0) -> Any:
    with tenant_scope(organization):
        conversation = Conversation.objects.get()
        return conversation_reply_due(
            organization=organization,
            conversation_id=conversation.pk,
            debounce=timedelta(seconds=debounce),
        )


def test_the_webhook_stores_the_text_and_answers_an_empty_response_at_once(client, clinic_a):
    response = _text(client, "Hi, I'd like a cleaning")

    assert response.status_code == 200
    assert response.content.decode() == EMPTY_TWIML
    [inbound] = _messages(clinic_a)
    assert (inbound.content, inbound.outcome) == ("Hi, I'd like a cleaning", "queued")
    assert locmem.outbox == []


def test_the_worker_answers_and_sends_the_reply_through_the_outbound_path(
    client, clinic_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _text(client, "Hello")

    assert response.content.decode() == EMPTY_TWIML
    inbound, reply = _messages(clinic_a)
    assert inbound.outcome == "answered"
    assert reply.in_reply_to_id == inbound.pk
    assert reply.delivery_status == "sent"
    [sent] = locmem.outbox
    assert (sent.to_number, sent.body) == (PATIENT, reply.content)
    assert "Welcome to Alpha Dental" in sent.body


def test_a_burst_of_texts_gets_one_turn_that_sees_all_of_them(client, clinic_a, openai_server):
    openai_server.push(text_completion("Sure! Tomorrow morning we have 9:00 or 10:30."))
    for body in ("hi", "i need a cleaning", "tmrw morning?"):
        _text(client, body)  # no worker yet: all three wait

    run = _reply_due(clinic_a)

    assert run.replies == 1
    assert len(openai_server.requests) == 1
    sent_to_model = [m["content"] for m in openai_server.requests[0]["messages"]]
    assert {"hi", "i need a cleaning", "tmrw morning?"} <= set(sent_to_model)
    messages = _messages(clinic_a)
    assert [m.outcome for m in messages[:3]] == ["answered"] * 3
    assert messages[3].content == "Sure! Tomorrow morning we have 9:00 or 10:30."
    assert messages[3].metadata["burst"] == 3
    assert len(locmem.outbox) == 1


def test_the_offline_engine_reads_a_burst_as_one_text(client, clinic_a):
    _text(client, "Hi")
    _text(client, "what are your hours?")

    _reply_due(clinic_a)

    reply = _messages(clinic_a)[-1]
    assert "hours" in reply.content.lower() or "open" in reply.content.lower()
    assert len(locmem.outbox) == 1


def test_the_worker_waits_for_the_quiet_gap_before_answering(client, clinic_a):
    _text(client, "hi")

    run = _reply_due(clinic_a, debounce=3)

    assert run.replies == 0
    assert run.retry_at is not None
    assert run.retry_at > timezone.now() + timedelta(seconds=2)
    assert [m.outcome for m in _messages(clinic_a)] == ["queued"]


def test_a_conversation_another_worker_holds_is_not_answered_twice(client, clinic_a):
    _text(client, "hi")
    with tenant_scope(clinic_a):
        Conversation.objects.update(turn_lease_until=timezone.now() + timedelta(seconds=60))

    run = _reply_due(clinic_a)

    assert run.replies == 0
    assert run.retry_at is not None
    assert locmem.outbox == []


def test_a_reply_task_run_twice_answers_once(client, clinic_a):
    _text(client, "hi")

    first, second = _reply_due(clinic_a), _reply_due(clinic_a)

    assert (first.replies, second.replies) == (1, 0)
    assert len(locmem.outbox) == 1


def test_a_retried_webhook_of_a_queued_text_is_neither_stored_nor_queued_again(
    client, clinic_a, django_capture_on_commit_callbacks
):
    params = twilio_payload(Body="hello")
    signed_post(client, params)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retry = signed_post(client, params)

    assert retry.content.decode() == EMPTY_TWIML
    assert callbacks == []
    assert len(_messages(clinic_a)) == 1


@pytest.mark.parametrize(("body", "outcome"), [("STOP", "opted_out"), ("HELP", "help")])
def test_stop_and_help_behave_as_inline_replies(client, clinic_a, body, outcome):
    response = _text(client, body)

    inbound = _messages(clinic_a)[0]
    assert inbound.outcome == outcome
    if outcome == "help":
        [help_reply] = reply_texts(response)
        assert "Reply STOP" in help_reply
    assert locmem.outbox == []


def test_the_sweep_answers_texts_whose_task_was_lost(client, clinic_a, settings):
    settings.LEXI_TURN_LEASE_SECONDS = 0
    _text(client, "anyone there?")  # its task never runs (the worker died)
    with tenant_scope(clinic_a):
        Message.objects.update(timestamp=timezone.now() - timedelta(seconds=5))

    acted = sms_recover.call()

    assert acted == 1
    assert _messages(clinic_a)[0].outcome == "answered"
    assert len(locmem.outbox) == 1


def test_the_sweep_marks_a_send_its_worker_died_in_unknown_and_flags_it(clinic_a):
    conversation = ConversationFactory.create(organization=clinic_a)
    stuck = MessageFactory.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        delivery_status="sending",
        delivery_updated_at=timezone.now() - timedelta(minutes=10),
    )

    sms_recover.call()

    with tenant_scope(clinic_a):
        stuck.refresh_from_db()
        conversation.refresh_from_db()
    assert stuck.delivery_status == "unknown"
    assert conversation.needs_attention is True
    assert locmem.outbox == []
