"""A failing model never leaves the patient without a reply: bounded retries, then offline."""

import time

import pytest

from conversations.models import ToolCall
from tenants.scoping import tenant_scope
from tests.lexi.conftest import conversation_start, patient_says
from tests.lexi.edge import run_turn
from tests.lexi.openai_server import (
    Respond,
    text_completion,
    tool_call,
    tool_calls_completion,
)

pytestmark = pytest.mark.django_db

DEADLINE = 2.0


@pytest.fixture(autouse=True)
def _fast_limits(settings):
    settings.LEXI_TURN_DEADLINE_SECONDS = DEADLINE
    settings.LEXI_LLM_TIMEOUT_SECONDS = 0.5
    settings.LEXI_MAX_TOOL_ROUNDS = 3


def _turn(office, text="I need a cleaning"):
    conversation = conversation_start(office.organization)
    message = patient_says(conversation, text)
    started = time.monotonic()
    reply = run_turn(conversation=conversation, message=message)
    elapsed = time.monotonic() - started
    with tenant_scope(office.organization):
        conversation.refresh_from_db()
    return reply, conversation, elapsed


def _assert_fell_back(reply, conversation, elapsed):
    assert reply.fell_back
    assert reply.flagged
    assert reply.engine == "offline"
    assert reply.text.strip()
    assert conversation.needs_attention
    assert conversation.attention_reason.startswith("Lexi fell back")
    # The offline engine carries the conversation on: staff review it, Lexi is not paused.
    assert conversation.lexi_paused_until is None
    # The offline engine answers in well under a second; Twilio waits 15.
    assert elapsed < DEADLINE + 1.5


def test_rate_limit_with_a_short_retry_after_is_retried_and_then_answered(openai_server, office_a):
    openai_server.push(
        Respond(status=429, headers={"Retry-After": "0.2"}, body={"error": {"message": "slow"}}),
        text_completion("Hi! How can I help?"),
    )
    reply, conversation, _ = _turn(office_a)
    assert (reply.engine, reply.fell_back, reply.text) == ("openai", False, "Hi! How can I help?")
    assert len(openai_server.requests) == 2
    assert not conversation.needs_attention


def test_rate_limit_that_keeps_coming_is_bounded_then_falls_back(openai_server, office_a):
    openai_server.always(Respond(status=429, headers={"Retry-After": "0.1"}, body={}))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    assert len(openai_server.requests) == 3
    assert "rate_limited" in conversation.attention_reason


def test_retry_after_beyond_the_deadline_is_not_waited_for(openai_server, office_a):
    openai_server.always(Respond(status=429, headers={"Retry-After": "30"}, body={}))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    assert len(openai_server.requests) == 1
    assert elapsed < 1.5


def test_server_errors_are_retried_a_bounded_number_of_times_then_fall_back(
    openai_server, office_a
):
    openai_server.always(Respond(status=500, body={"error": {"message": "boom"}}))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    # Backoff 0.5 s then 1 s: the third try fits only if the deadline allows it.
    assert 2 <= len(openai_server.requests) <= 3


def test_a_server_that_never_answers_times_out_within_the_deadline(openai_server, office_a):
    openai_server.always(Respond(delay=5, body=text_completion("too late")))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    assert 1 <= len(openai_server.requests) <= 3


def test_cut_off_json_falls_back(openai_server, office_a):
    openai_server.always(Respond(body=b'{"id": "chatcmpl-1", "object": "chat.comp'))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)


def test_an_authentication_error_is_not_retried(openai_server, office_a):
    openai_server.always(Respond(status=401, body={"error": {"message": "bad key"}}))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    assert len(openai_server.requests) == 1


def test_an_endless_tool_loop_is_cut_at_the_round_limit(openai_server, office_a):
    openai_server.always(
        lambda request, server: tool_calls_completion([tool_call("get_office_info", {})])
    )
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    assert len(openai_server.requests) == 3
    # The last round asks for words, not tools; what it asked for anyway is not run.
    assert [r["tool_choice"] for r in openai_server.requests] == ["auto", "auto", "none"]
    spent = reply.usage["fallback_from"]
    assert (spent["engine"], spent["reason"], spent["rounds"]) == (
        "openai",
        "tool_rounds_exhausted",
        3,
    )
    assert spent["total_tokens"] == 360
    with tenant_scope(office_a.organization):
        openai_calls = ToolCall.objects.filter(engine="openai").count()
    assert openai_calls == 2


def test_a_slow_tool_loop_stops_at_the_deadline(openai_server, office_a, settings):
    settings.LEXI_MAX_TOOL_ROUNDS = 50
    openai_server.always(
        Respond(delay=0.3, body=tool_calls_completion([tool_call("get_office_info", {})]))
    )
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
    assert len(openai_server.requests) < 10
    assert "deadline" in conversation.attention_reason


def test_an_empty_reply_falls_back(openai_server, office_a):
    openai_server.always(text_completion("   "))
    reply, conversation, elapsed = _turn(office_a)
    _assert_fell_back(reply, conversation, elapsed)
