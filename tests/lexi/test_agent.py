"""run_turn: the engine it picks, the history it sends, what it reports."""

from contextlib import nullcontext

import pytest

from conversations.models import ToolCall
from lexi import agent
from lexi.engines import engine_for, engine_name_for
from tenants.scoping import ScopeError, tenant_scope
from tests.lexi.conftest import conversation_start, lexi_says, patient_says
from tests.lexi.edge import run_turn
from tests.lexi.openai_server import text_completion, tool_call, tool_calls_completion

pytestmark = pytest.mark.django_db


def test_openai_without_an_api_key_means_offline(org_a, settings):
    settings.OPENAI_API_KEY = ""
    settings.LEXI_ENGINE = "openai"
    assert engine_name_for(org_a) == "offline"
    org_a.lexi_engine = "openai"
    assert engine_name_for(org_a) == "offline"


def test_the_organizations_engine_wins_over_the_servers(org_a, settings):
    settings.OPENAI_API_KEY = "sk-test"
    settings.LEXI_ENGINE = "openai"
    assert engine_name_for(org_a) == "openai"
    org_a.lexi_engine = "offline"
    assert engine_name_for(org_a) == "offline"
    settings.LEXI_ENGINE = "offline"
    org_a.lexi_engine = "openai"
    assert engine_name_for(org_a) == "openai"


def test_only_the_offline_engine_answers_inside_a_transaction_and_has_no_fallback(org_a, settings):
    settings.OPENAI_API_KEY = "sk-test"
    org_a.lexi_engine = "openai"
    model = engine_for(org_a)
    assert (model.name, model.answers_in_transaction, model.falls_back) == ("openai", False, True)
    org_a.lexi_engine = "offline"
    offline = engine_for(org_a)
    assert (offline.name, offline.answers_in_transaction, offline.falls_back) == (
        "offline",
        True,
        False,
    )


def test_the_current_message_is_sent_once_after_the_window(openai_server, office_a, settings):
    settings.LEXI_HISTORY_MESSAGES = 3
    conversation = conversation_start(office_a.organization)
    for n in range(4):
        patient_says(conversation, f"old {n}")
        lexi_says(conversation, f"answer {n}")
    current = patient_says(conversation, "new question")
    openai_server.push(text_completion("ok"))
    run_turn(conversation=conversation, message=current)

    sent = [m["content"] for m in openai_server.requests[0]["messages"][1:]]
    assert sent == ["answer 2", "old 3", "answer 3", "new question"]


def test_the_greeting_is_asked_for_only_before_lexi_has_spoken(openai_server, office_a):
    openai_server.push(text_completion("Hi!"), text_completion("Sure."))
    conversation = conversation_start(office_a.organization)
    run_turn(conversation=conversation, message=patient_says(conversation, "hello"))
    lexi_says(conversation, "Hi!")
    run_turn(conversation=conversation, message=patient_says(conversation, "a cleaning"))
    first, second = (r["messages"][0]["content"] for r in openai_server.requests)
    assert "first message: greet" in first
    assert "first message: greet" not in second


def test_a_hand_off_by_the_model_is_reported_as_flagged(openai_server, office_a):
    openai_server.push(
        tool_calls_completion([tool_call("hand_off_to_staff", {"reason": "severe pain"})]),
        text_completion("I've let the team know. If it gets worse, call 911."),
    )
    conversation = conversation_start(office_a.organization)
    reply = run_turn(conversation=conversation, message=patient_says(conversation, "my jaw!"))
    assert reply.flagged
    assert not reply.fell_back
    with tenant_scope(office_a.organization):
        conversation.refresh_from_db()
    assert (conversation.needs_attention, conversation.attention_reason) == (True, "severe pain")


def test_a_turn_without_a_flag_reports_none(openai_server, office_a):
    openai_server.push(text_completion("Hello"))
    conversation = conversation_start(office_a.organization)
    reply = run_turn(conversation=conversation, message=patient_says(conversation, "hi"))
    assert not reply.flagged
    with tenant_scope(office_a.organization):
        conversation.refresh_from_db()
    assert not conversation.needs_attention


def test_a_turn_outside_its_organizations_scope_refuses_and_calls_no_tool(office_a, office_b):
    conversation = conversation_start(office_a.organization)
    message = patient_says(conversation, "I'd like a cleaning tomorrow")
    for wrong in (nullcontext(), tenant_scope(office_b.organization)):
        with wrong, pytest.raises(ScopeError):
            agent.run_turn(conversation=conversation, message=message)
    with tenant_scope(office_a.organization):
        assert not ToolCall.objects.exists()
