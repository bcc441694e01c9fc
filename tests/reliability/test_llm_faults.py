"""A misbehaving model, through the webhook: a sensible reply inside the deadline, every time.

The scripted OpenAI-compatible server injects each fault; the offline engine carries on, the
conversation is flagged for staff, and both the patient's message and the reply are stored.
"""

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from conversations.models import Conversation, Message, ToolCall
from tenants.scoping import tenant_scope
from tests.lexi.openai_server import (
    Respond,
    ScriptedOpenAI,
    text_completion,
    tool_call,
    tool_calls_completion,
)
from tests.reliability.webhook import assert_polite_twiml
from tests.twilio_helpers import signed_post, twilio_payload

pytestmark = pytest.mark.django_db

DEADLINE = 2.5
LLM_TIMEOUT = 1.0
# The turn's deadline, plus the offline engine and the database around it.
WALL_LIMIT = DEADLINE + 1.5
MODEL_TEXT = "Happy to help! We have openings on Tuesday."


@pytest.fixture(autouse=True)
def _tight_deadlines(settings: Any) -> None:
    settings.LEXI_TURN_DEADLINE_SECONDS = DEADLINE
    settings.LEXI_LLM_TIMEOUT_SECONDS = LLM_TIMEOUT
    settings.LEXI_MAX_TOOL_ROUNDS = 4


def _never_answers(server: ScriptedOpenAI) -> None:
    server.always(Respond(delay=LLM_TIMEOUT * 4, body=text_completion("too late")))


def _rate_limited_for_long(server: ScriptedOpenAI) -> None:
    server.always(Respond(status=429, headers={"Retry-After": "30"}, body={"error": {}}))


def _rate_limited(server: ScriptedOpenAI) -> None:
    server.always(Respond(status=429, headers={"Retry-After": "0.2"}, body={"error": {}}))


def _server_errors(server: ScriptedOpenAI) -> None:
    server.always(Respond(status=500, body={"error": {"message": "boom"}}))


def _bad_gateway_html(server: ScriptedOpenAI) -> None:
    server.always(Respond(status=502, body=b"<html><body>Bad gateway</body></html>"))


def _cut_off_json(server: ScriptedOpenAI) -> None:
    server.always(Respond(status=200, body=b'{"id": "chatcmpl-1", "choices": [{"mess'))


def _empty_choices(server: ScriptedOpenAI) -> None:
    server.always({"id": "x", "object": "chat.completion", "created": 0, "model": "m"})


def _unknown_tool_forever(server: ScriptedOpenAI) -> None:
    server.always(tool_calls_completion([tool_call("launch_missiles", {"target": "moon"})]))


def _invalid_arguments_forever(server: ScriptedOpenAI) -> None:
    server.always(tool_calls_completion([tool_call("book_appointment", '{"slot_id": ')]))


def _tools_forever(server: ScriptedOpenAI) -> None:
    server.always(tool_calls_completion([tool_call("get_office_info", {})]))


FALLBACK_FAULTS: dict[str, Callable[[ScriptedOpenAI], None]] = {
    "timeout": _never_answers,
    "429_retry_after_beyond_deadline": _rate_limited_for_long,
    "429_every_time": _rate_limited,
    "500_every_time": _server_errors,
    "502_html": _bad_gateway_html,
    "cut_off_json": _cut_off_json,
    "empty_choices": _empty_choices,
    "unknown_tool_forever": _unknown_tool_forever,
    "invalid_arguments_forever": _invalid_arguments_forever,
    "tool_calls_forever": _tools_forever,
}


def _text(client: Any, body: str = "Do you have anything on Tuesday?") -> tuple[Any, float, str]:
    params = twilio_payload(Body=body)
    started = time.monotonic()
    response = signed_post(client, params)
    return response, time.monotonic() - started, params["MessageSid"]


def _stored(clinic: Any, sid: str) -> tuple[Conversation, Message, Message]:
    with tenant_scope(clinic):
        inbound = Message.objects.get(provider_message_id=sid)
        reply = Message.objects.get(in_reply_to=inbound.pk)
        conversation = Conversation.objects.get(pk=inbound.conversation_id)
    return conversation, inbound, reply


@pytest.mark.parametrize("fault", FALLBACK_FAULTS)
def test_llm_fault_gets_the_offline_reply_within_the_deadline_and_flags(
    client, clinic, openai_server, figures, fault
):
    FALLBACK_FAULTS[fault](openai_server)

    response, elapsed, sid = _text(client)
    figures.add("requests")
    figures.add("faults")
    figures.add("llm_calls", len(openai_server.requests))

    [reply_text] = assert_polite_twiml(response)
    assert elapsed < WALL_LIMIT, f"{fault}: {elapsed:.2f}s"
    assert openai_server.requests, "the fault was never reached"
    assert len(openai_server.requests) <= 4  # bounded retries and rounds
    conversation, inbound, reply = _stored(clinic, sid)
    assert inbound.content == "Do you have anything on Tuesday?"
    assert reply.content == reply_text
    assert reply.metadata["engine"] == "offline"
    assert reply.fell_back is True
    assert conversation.needs_attention is True
    assert "fell back" in conversation.attention_reason
    figures.add("stored")


def test_connection_refused_falls_back_fast(client, clinic, openai_server, settings, figures):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"

    response, elapsed, sid = _text(client)
    figures.add("requests")
    figures.add("faults")

    assert assert_polite_twiml(response)
    assert elapsed < WALL_LIMIT
    conversation, _inbound, reply = _stored(clinic, sid)
    assert reply.fell_back is True
    assert conversation.needs_attention is True
    figures.add("stored")


def test_short_retry_after_is_honoured_and_the_model_answers(
    client, clinic, openai_server, figures
):
    openai_server.push(
        Respond(status=429, headers={"Retry-After": "0.3"}, body={"error": {}}),
        Respond(status=500, body={"error": {}}),
        text_completion(MODEL_TEXT),
    )

    response, elapsed, sid = _text(client)
    figures.add("requests")
    figures.add("faults", 2)
    figures.add("llm_calls", len(openai_server.requests))

    assert assert_polite_twiml(response) == [MODEL_TEXT]
    assert 0.3 <= elapsed < WALL_LIMIT
    assert len(openai_server.requests) == 3
    conversation, _inbound, reply = _stored(clinic, sid)
    assert reply.metadata["engine"] == "openai"
    assert conversation.needs_attention is False
    figures.add("stored")


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("launch_missiles", {}, "unknown_tool"),
        ("book_appointment", "{not json", "invalid_json"),
        ("find_patient", {"phone": "+15550000000", "organization_id": "other"}, "invalid"),
    ],
)
def test_a_bad_tool_call_is_reported_to_the_model_which_then_answers(
    client, clinic, openai_server, figures, name, arguments, error
):
    openai_server.push(
        tool_calls_completion([tool_call(name, arguments)]), text_completion(MODEL_TEXT)
    )

    response, elapsed, sid = _text(client)
    figures.add("requests")
    figures.add("faults")
    figures.add("llm_calls", len(openai_server.requests))

    assert assert_polite_twiml(response) == [MODEL_TEXT]
    assert elapsed < WALL_LIMIT
    tool_message = openai_server.requests[1]["messages"][-1]
    assert tool_message["role"] == "tool"
    assert error in tool_message["content"]
    _conversation, _inbound, reply = _stored(clinic, sid)
    with tenant_scope(clinic):
        [call] = ToolCall.objects.filter(conversation_id=reply.conversation_id)
    assert call.name == name
    assert error in call.error
    figures.add("stored")


def test_a_slow_model_across_several_texts_never_loses_one(client, clinic, openai_server, figures):
    """Each text hits a different fault; all five are stored with a reply, in order."""
    openai_server.push(
        Respond(status=500, body={"error": {}}),
        Respond(status=500, body={"error": {}}),
        Respond(status=500, body={"error": {}}),
        text_completion("First answer."),
        Respond(status=200, body=b"{"),
        tool_calls_completion([tool_call("nope", {})]),
        text_completion("Third answer."),
        Respond(delay=LLM_TIMEOUT * 3, body=text_completion("late")),
    )
    openai_server.always(text_completion("Later answer."))
    bodies = [f"text {n}" for n in range(5)]

    for body in bodies:
        response, elapsed, _sid = _text(client, body)
        figures.add("requests")
        assert_polite_twiml(response)
        assert elapsed < WALL_LIMIT
    figures.add("faults", 6)
    figures.add("llm_calls", len(openai_server.requests))

    with tenant_scope(clinic):
        inbound = list(Message.objects.filter(role=Message.Role.USER).order_by("timestamp", "id"))
        replies = Message.objects.filter(role=Message.Role.ASSISTANT).count()
    assert [m.content for m in inbound] == bodies
    assert replies == 5
    figures.add("stored", len(inbound))
