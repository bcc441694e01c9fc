"""Lexi pauses while staff handle a conversation: texts are stored and shown, not answered;
STOP and HELP still work; her own hand-off pauses her; she answers again once handed back."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from booking.models import Appointment, Patient
from conversations.attention import (
    conversation_answered_by_staff,
    conversation_hand_back,
    conversation_pause,
)
from conversations.models import Conversation, Message, Outcome
from sms.models import SmsOptOut
from sms.sending import locmem
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.lexi.openai_server import text_completion, tool_call, tool_calls_completion
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db


def _text(client: Any, body: str) -> Any:
    return signed_post(client, twilio_payload(Body=body))


def _conversation(organization: Organization) -> Conversation:
    with tenant_scope(organization):
        return Conversation.objects.get()


def _messages(organization: Organization) -> list[Message]:
    with tenant_scope(organization):
        return list(Message.objects.order_by("timestamp", "id"))


def _pause(organization: Organization, **kwargs: Any) -> Conversation:
    conversation = _conversation(organization)
    with tenant_scope(organization):
        conversation_pause(conversation=conversation, **kwargs)
    return conversation


def test_a_paused_conversation_stores_the_text_and_does_not_answer(client, clinic_a):
    _text(client, "hi")
    _pause(clinic_a)

    response = _text(client, "is anyone there?")

    assert response.status_code == 200
    assert reply_texts(response) == []
    last = _messages(clinic_a)[-1]
    assert (last.role, last.content, last.outcome) == ("user", "is anyone there?", "paused")
    assert not Message.objects.unscoped().filter(in_reply_to=last).exists()
    conversation = _conversation(clinic_a)
    assert conversation.waiting_since == last.timestamp
    assert conversation.message_count == 3


def test_stop_and_help_still_work_while_paused(client, clinic_a):
    _text(client, "hi")
    _pause(clinic_a)

    [help_reply] = reply_texts(_text(client, "HELP"))
    _text(client, "STOP")

    assert "Alpha Dental" in help_reply
    with tenant_scope(clinic_a):
        assert SmsOptOut.objects.get(phone="+16195551234").opted_out is True
    assert [m.outcome for m in _messages(clinic_a) if m.role == "user"][-2:] == [
        Outcome.HELP,
        Outcome.OPTED_OUT,
    ]


def test_lexi_answers_again_once_the_pause_runs_out(client, clinic_a, time_machine):
    _text(client, "hi")
    _pause(clinic_a, until=timezone.now() + timedelta(hours=1))
    assert reply_texts(_text(client, "hello?")) == []

    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=1))

    assert reply_texts(_text(client, "what are your hours?")) != []


def test_lexi_answers_again_once_handed_back(client, clinic_a):
    _text(client, "hi")
    conversation = _pause(clinic_a)
    _text(client, "hello?")

    with tenant_scope(clinic_a):
        conversation_hand_back(conversation=conversation)

    assert reply_texts(_text(client, "what are your hours?")) != []
    assert _conversation(clinic_a).waiting_since is None


def test_asking_for_a_person_pauses_lexi_after_her_reply(client, clinic_a):
    [reply] = reply_texts(_text(client, "can I talk to a real person?"))
    assert "team" in reply

    assert reply_texts(_text(client, "ok thanks, when?")) == []
    conversation = _conversation(clinic_a)
    assert conversation.needs_attention is True
    assert conversation.lexi_paused_until is not None


def test_the_models_hand_off_pauses_lexi(client, clinic_a, openai_server):
    openai_server.push(
        tool_calls_completion([tool_call("hand_off_to_staff", {"reason": "wants a refund"})]),
        text_completion("I've asked our team to text you back shortly."),
    )
    _text(client, "I want a refund")

    assert reply_texts(_text(client, "hello??")) == []
    assert len(openai_server.requests) == 2


def test_lexi_reads_what_staff_wrote_once_she_answers_again(client, clinic_a, openai_server):
    openai_server.push(text_completion("Hi! How can I help?"), text_completion("Sure."))
    _text(client, "hi")
    conversation = _pause(clinic_a)
    with tenant_scope(clinic_a):
        Message.objects.create(
            organization=clinic_a,
            conversation=conversation,
            role=Message.Role.STAFF,
            content="We moved you to Friday 9am.",
        )
        conversation_hand_back(conversation=conversation)

    _text(client, "thanks!")

    chat = openai_server.requests[-1]["messages"]
    assert {
        "role": "assistant",
        "content": "[Sent by the office staff] We moved you to Friday 9am.",
    } in chat


def test_a_queued_text_is_left_to_staff_when_they_take_over_before_the_worker_runs(
    client, clinic_a, settings, django_capture_on_commit_callbacks
):
    settings.LEXI_REPLY_MODE = "queued"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _text(client, "hi")
    _pause(clinic_a)

    for callback in callbacks:
        callback()

    [text] = _messages(clinic_a)
    assert text.outcome == Outcome.PAUSED
    assert locmem.outbox == []
    assert _conversation(clinic_a).waiting_since == text.timestamp


def test_a_queued_text_is_answered_by_the_worker_when_not_paused(
    client, clinic_a, settings, django_capture_on_commit_callbacks
):
    settings.LEXI_REPLY_MODE = "queued"
    with django_capture_on_commit_callbacks(execute=True):
        _text(client, "hi")

    assert [m.role for m in _messages(clinic_a)] == ["user", "assistant"]
    assert len(locmem.outbox) == 1


def test_asking_for_a_person_after_a_picture_flag_still_pauses_lexi(client, clinic_a):
    signed_post(client, twilio_payload("inbound_mms", Body=""))
    flagged = _conversation(clinic_a)
    assert (flagged.needs_attention, flagged.lexi_paused_until) == (True, None)

    _text(client, "can I talk to a real person?")

    assert _conversation(clinic_a).lexi_paused_until is not None
    assert reply_texts(_text(client, "hello?")) == []


def test_a_yes_after_staff_took_over_books_nothing_lexi_had_offered(client, settings):
    """Lexi offers the earliest emergency visit and hands off; staff reply; once handed back,
    a "yes" is not read as the answer to her old offer."""
    call_command("loaddata", "demo", verbosity=0)
    barton = Organization.objects.get(slug="barton-dental")
    with tenant_scope(barton):
        Patient.objects.create(
            organization=barton,
            first_name="Ana",
            last_name="Lopez",
            phone="+16195551234",
            date_of_birth=date(1990, 1, 1),
        )
    offer = reply_texts(_text(client, "my tooth got knocked out!!"))
    assert "book it?" in offer[0]
    conversation = _conversation(barton)
    with tenant_scope(barton):
        conversation_answered_by_staff(conversation=conversation)
        conversation_hand_back(conversation=conversation)

    [reply] = reply_texts(_text(client, "yes"))

    with tenant_scope(barton):
        assert not Appointment.objects.exists()
    assert "booked" not in reply.lower()
