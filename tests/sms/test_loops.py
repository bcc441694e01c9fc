"""No loops: after two replies in a row that only asked again, Lexi stops repeating herself,
says a person will follow up and flags the conversation (any engine)."""

from typing import Any

import pytest

from conversations.models import Conversation
from frontdesk.pause import lexi_paused
from lexi.agent import LOOP_TEXT
from tenants.scoping import tenant_scope
from tests.lexi.openai_server import text_completion
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db


def _texts(client: Any, *bodies: str) -> list[list[str]]:
    return [reply_texts(signed_post(client, twilio_payload(Body=body))) for body in bodies]


def _conversation(organization: Any) -> Conversation:
    with tenant_scope(organization):
        return Conversation.objects.get()


def test_the_offline_engine_asks_twice_then_hands_over(client, clinic_a):
    replies = _texts(client, "I need a cleaning", "???", "??", "...", "hello?")

    assert replies[1][0].startswith("Sorry, I didn't catch that.")
    assert replies[2][0].startswith("Sorry, I didn't catch that.")
    assert replies[3] == [LOOP_TEXT]
    assert replies[4] == []  # staff have it now
    conversation = _conversation(clinic_a)
    assert conversation.needs_attention
    assert lexi_paused(conversation=conversation)


def test_a_reprompt_never_says_sorry_twice(client, clinic_a):
    replies = _texts(client, "book a cleaning", "Ana Lopez", "not sure", "still not sure")

    assert "couldn't read that" in replies[2][0]
    assert replies[3][0].count("Sorry") == 1


def test_understood_texts_never_count_as_a_loop(client, clinic_a):
    replies = _texts(client, "hi", "what are your hours?", "where are you?", "what are your hours?")

    assert LOOP_TEXT not in [r for reply in replies for r in reply]
    assert not _conversation(clinic_a).needs_attention


def test_a_model_that_keeps_saying_the_same_thing_is_stopped(client, clinic_a, openai_server):
    openai_server.always(text_completion("Could you tell me a bit more?"))

    replies = _texts(client, "hmm", "hmm", "hmm", "hmm")

    assert [r[0] for r in replies[:3]] == ["Could you tell me a bit more?"] * 3
    assert replies[3] == [LOOP_TEXT]
    assert _conversation(clinic_a).needs_attention
