"""What the model is sent stays bounded however long the conversation gets."""

import json

import pytest

from conversations.models import Message
from conversations.services import message_log, tool_call_log
from lexi.history import history_messages, tokens_estimate
from tenants.scoping import tenant_scope
from tests.lexi.conftest import conversation_start, lexi_says, patient_says
from tests.lexi.edge import run_turn
from tests.lexi.openai_server import text_completion

pytestmark = pytest.mark.django_db

WINDOW = 20
BUDGET = 1500


@pytest.fixture(autouse=True)
def _bounds(settings):
    settings.LEXI_HISTORY_MESSAGES = WINDOW
    settings.LEXI_HISTORY_TOKEN_BUDGET = BUDGET


def _chat(conversation, turns: int) -> None:
    """`turns` exchanges, each with a tool call and a longish reply."""
    for n in range(turns):
        message = patient_says(conversation, f"Message {n}: " + "could I come in later? " * 5)
        with tenant_scope(conversation.organization):
            tool_call_log(
                conversation=conversation,
                message=message,
                name="find_slots",
                arguments={"appointment_type": "cleaning"},
                result={"slots": [{"slot_id": f"slot-{n}-{i}", "start_text": "x"} for i in (1, 2)]},
                call_id=f"call_{n}",
                engine="openai",
            )
        lexi_says(conversation, f"Reply {n}: " + "I have Tue Dec 1 at 10:00 AM. " * 4)


def _request_size(openai_server, office, turns: int) -> tuple[int, list[dict]]:
    conversation = conversation_start(office.organization, phone=f"+1619555{turns:04d}")
    _chat(conversation, turns)
    openai_server.push(text_completion("ok"))
    run_turn(conversation=conversation, message=patient_says(conversation, "hello again"))
    request = openai_server.requests[-1]
    return len(json.dumps(request["messages"])), request["messages"]


def test_request_size_stays_flat_from_10_to_200_prior_messages(openai_server, office_a):
    size_10, _ = _request_size(openai_server, office_a, 5)
    size_200, messages_200 = _request_size(openai_server, office_a, 100)
    size_400, _ = _request_size(openai_server, office_a, 200)

    history = messages_200[1:-1]
    assert tokens_estimate(history) <= BUDGET
    assert sum(m["role"] in ("user", "assistant") and "tool_calls" not in m for m in history) <= (
        WINDOW
    )
    assert abs(size_400 - size_200) < 0.02 * size_200
    assert size_200 < size_10 + BUDGET * 4
    # The newest exchange is what survives.
    assert messages_200[-2]["content"].startswith("Reply 99:")
    assert messages_200[-1] == {"role": "user", "content": "hello again"}


def test_the_budget_drops_whole_turns_and_never_splits_a_tool_call_from_its_result(office_a):
    conversation = conversation_start(office_a.organization)
    _chat(conversation, 12)
    with tenant_scope(office_a.organization):
        history = list(Message.objects.filter(conversation=conversation).order_by("id"))
        for budget in (50, 300, 700, 5000):
            messages = history_messages(history=history, token_budget=budget)
            assert tokens_estimate(messages) <= budget
            if messages:
                assert messages[0]["role"] == "user"
            pending: set[str] = set()
            for message in messages:
                if message["role"] == "tool":
                    pending.remove(message["tool_call_id"])
                else:
                    assert not pending, "a tool call lost its result"
                    pending = {c["id"] for c in message.get("tool_calls", [])}
            assert not pending


def test_a_tool_call_with_malformed_arguments_is_replayed_as_sent(office_a):
    conversation = conversation_start(office_a.organization)
    message = patient_says(conversation, "hi")
    with tenant_scope(office_a.organization):
        tool_call_log(
            conversation=conversation,
            message=message,
            name="find_slots",
            arguments={"_raw": '{"appointment'},
            result={"error": "invalid_json", "message": "The arguments are not valid JSON."},
            error="invalid_json",
            call_id="call_bad",
            engine="openai",
        )
        messages = history_messages(history=[message], token_budget=1000)
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == '{"appointment'
    assert json.loads(messages[2]["content"])["error"] == "invalid_json"


def test_staff_messages_are_shown_as_staff_and_system_notes_are_left_out(office_a):
    conversation = conversation_start(office_a.organization)
    with tenant_scope(office_a.organization):
        staff = message_log(conversation=conversation, role="staff", content="Call us at 5")
        note = message_log(conversation=conversation, role="system", content="internal")
        messages = history_messages(history=[staff, note], token_budget=1000)
    assert messages == [{"role": "assistant", "content": "[Sent by the office staff] Call us at 5"}]
