"""One number flooding a clinic: every text logged, the model called only up to the limit.

The LLM calls are counted where they land, on the scripted OpenAI-compatible server.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Message
from sms.replies import SLOW_DOWN_TEXT as SLOW_DOWN_PROMISE
from tenants.scoping import tenant_scope
from tests.lexi.openai_server import text_completion
from tests.reliability.webhook import assert_polite_twiml
from tests.twilio_helpers import post_in_thread, signed_post, twilio_payload

LIMIT = 5
FLOOD = 100
MODEL_TEXT = "Sure, let me check that for you."
SLOW_DOWN_TEXT = str(SLOW_DOWN_PROMISE)  # in English: these senders write nothing else


@pytest.fixture
def limited(settings: Any, openai_server: Any) -> Any:
    settings.LEXI_SENDER_LIMIT_PER_MINUTE = LIMIT
    openai_server.always(text_completion(MODEL_TEXT))
    return openai_server


def _inbound_and_replies(clinic: Any) -> tuple[list[Message], list[Message]]:
    with tenant_scope(clinic):
        inbound = list(Message.objects.filter(role=Message.Role.USER))
        replies = list(Message.objects.filter(role=Message.Role.ASSISTANT))
    return inbound, replies


@pytest.mark.django_db
def test_a_hundred_texts_in_a_minute_make_only_limit_llm_calls_and_one_slow_down(
    client, clinic, limited, figures
):
    answers = []
    for n in range(FLOOD):
        response = signed_post(client, twilio_payload(Body=f"are you there? {n}"))
        answers.append(assert_polite_twiml(response))
    figures.add("requests", FLOOD)
    figures.add("faults")  # the flood itself
    figures.add("llm_calls", len(limited.requests))

    assert len(limited.requests) == LIMIT
    assert answers[:LIMIT] == [[MODEL_TEXT]] * LIMIT
    assert answers[LIMIT] == [SLOW_DOWN_TEXT]
    assert answers[LIMIT + 1 :] == [[]] * (FLOOD - LIMIT - 1)
    inbound, replies = _inbound_and_replies(clinic)
    assert sorted(m.content for m in inbound) == sorted(f"are you there? {n}" for n in range(FLOOD))
    assert [r.content for r in replies].count(SLOW_DOWN_TEXT) == 1
    assert len(replies) == LIMIT + 1
    outcomes = [m.outcome for m in inbound]
    assert outcomes.count("throttled") == FLOOD - LIMIT - 1
    figures.add("stored", len(inbound))
    figures.add("lost", FLOOD - len(inbound))


@pytest.mark.django_db
def test_the_sender_is_answered_again_once_the_minute_is_over(client, clinic, limited, figures):
    for n in range(LIMIT + 3):
        signed_post(client, twilio_payload(Body=f"flood {n}"))

    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=True):
        response = signed_post(client, twilio_payload(Body="Sorry, one question"))
    figures.add("requests", LIMIT + 4)

    assert assert_polite_twiml(response) == [MODEL_TEXT]
    assert len(limited.requests) == LIMIT + 1
    inbound, _replies = _inbound_and_replies(clinic)
    assert len(inbound) == LIMIT + 4
    figures.add("stored", len(inbound))


@pytest.mark.django_db
def test_the_limit_is_per_sender_so_others_are_still_answered(client, clinic, limited, figures):
    for n in range(LIMIT + 3):
        signed_post(client, twilio_payload(Body=f"flood {n}"))

    response = signed_post(client, twilio_payload(Body="Hello", From="+16195550999"))
    figures.add("requests", LIMIT + 4)

    assert assert_polite_twiml(response) == [MODEL_TEXT]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_flood_calls_the_llm_at_most_limit_times_and_slows_down_once(
    clinic, limited, figures
):
    payloads = [twilio_payload(Body=f"burst {n}") for n in range(FLOOD)]

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(post_in_thread, payloads))
    figures.add("requests", FLOOD)
    figures.add("faults")
    figures.add("llm_calls", len(limited.requests))

    answers = [assert_polite_twiml(r) for r in responses]
    assert len(limited.requests) <= LIMIT
    assert answers.count([SLOW_DOWN_TEXT]) == 1
    inbound, replies = _inbound_and_replies(clinic)
    assert len(inbound) == FLOOD
    assert [r.content for r in replies].count(SLOW_DOWN_TEXT) == 1
    figures.add("stored", len(inbound))
    figures.add("lost", FLOOD - len(inbound))
