"""The OpenAI engine against a scripted OpenAI-compatible server on 127.0.0.1."""

import json

import pytest

from booking.models import Appointment
from conversations.models import Message, ToolCall
from lexi.agent import MAX_REPLY_CHARS
from tenants.scoping import tenant_scope
from tests.lexi.conftest import conversation_start, lexi_says, patient_says
from tests.lexi.edge import run_turn
from tests.lexi.openai_server import (
    last_tool_result,
    text_completion,
    tool_call,
    tool_calls_completion,
    tool_results,
)

pytestmark = pytest.mark.django_db


def _tool_calls(organization) -> list[ToolCall]:
    with tenant_scope(organization):
        return list(ToolCall.objects.order_by("id"))


def _first_slots_then_book(request, server):
    """Turn 2: book the first slot the previous turn's find_slots offered, as the model would."""
    results = tool_results(request)
    patient_id = results["call_find_patient"]["patients"][0]["patient_id"]
    slot_id = results["call_find_slots"]["slots"][0]["slot_id"]
    return tool_calls_completion(
        [
            tool_call(
                "book_appointment",
                {"slot_id": slot_id, "patient_id": patient_id},
                call_id="call_book",
            )
        ]
    )


def _confirm_booking(request, server):
    booked = last_tool_result(request)
    return text_completion(
        f"You're booked for {booked['start_text']} with {booked['provider']}. See you then!"
    )


def _offer_slots(request, server):
    slots = last_tool_result(request)["slots"]
    return text_completion("I have " + ", ".join(s["start_text"] for s in slots) + ". Which?")


def test_full_booking_through_tool_calls_creates_the_appointment(
    openai_server, office_a, patient_a
):
    organization = office_a.organization
    openai_server.push(
        tool_calls_completion([tool_call("find_patient", {}, call_id="call_find_patient")]),
        tool_calls_completion(
            [
                tool_call(
                    "find_slots",
                    {"appointment_type": "cleaning", "limit": 3},
                    call_id="call_find_slots",
                )
            ]
        ),
        _offer_slots,
        _first_slots_then_book,
        _confirm_booking,
    )
    conversation = conversation_start(organization)
    first = patient_says(conversation, "I need a cleaning")
    reply = run_turn(conversation=conversation, message=first)
    assert reply.engine == "openai"
    assert not reply.fell_back
    assert reply.text.startswith("I have ")
    lexi_says(conversation, reply.text)

    second = patient_says(conversation, "The first one please")
    reply = run_turn(conversation=conversation, message=second)

    with tenant_scope(organization):
        appointment = Appointment.objects.select_related(
            "patient", "appointment_type", "conversation"
        ).get()
    assert appointment.patient == patient_a
    assert appointment.appointment_type == office_a.cleaning
    assert appointment.conversation == conversation
    assert reply.text.startswith("You're booked for ")
    assert "Dr. Pearl" in reply.text
    assert reply.tool_calls == 1
    assert reply.usage["rounds"] == 2
    assert reply.usage["total_tokens"] == 240
    calls = _tool_calls(organization)
    assert [(c.name, c.call_id, c.round, c.engine, c.message_id, c.error) for c in calls] == [
        ("find_patient", "call_find_patient", 0, "openai", first.pk, ""),
        ("find_slots", "call_find_slots", 1, "openai", first.pk, ""),
        ("book_appointment", "call_book", 0, "openai", second.pk, ""),
    ]
    assert (calls[2].result or {})["appointment_id"] == str(appointment.pk)


def test_earlier_turns_tool_calls_and_results_are_in_later_requests(
    openai_server, office_a, patient_a
):
    openai_server.push(
        tool_calls_completion([tool_call("find_patient", {}, call_id="call_find_patient")]),
        text_completion("Hi Ana! What can I do for you?"),
        text_completion("Sure."),
    )
    conversation = conversation_start(office_a.organization)
    reply = run_turn(conversation=conversation, message=patient_says(conversation, "hi"))
    lexi_says(conversation, reply.text)
    run_turn(conversation=conversation, message=patient_says(conversation, "a cleaning"))

    later = openai_server.requests[2]["messages"]
    roles = [m["role"] for m in later]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert later[2]["tool_calls"][0]["id"] == "call_find_patient"
    assert later[2]["tool_calls"][0]["function"]["name"] == "find_patient"
    assert later[3]["tool_call_id"] == "call_find_patient"
    assert json.loads(later[3]["content"])["patients"][0]["first_name"] == "Ana"
    assert later[4]["content"] == "Hi Ana! What can I do for you?"
    assert later[5]["content"] == "a cleaning"


def test_malformed_arguments_and_unknown_tool_go_back_to_the_model_as_errors(
    openai_server, office_a
):
    seen: dict = {}

    def recover(request, server):
        seen.update(tool_results(request))
        return text_completion("What kind of visit do you need?")

    openai_server.push(
        tool_calls_completion(
            [
                tool_call("find_slots", '{"appointment_type": "clean', call_id="call_bad"),
                tool_call("teleport_patient", {"to": "mars"}, call_id="call_unknown"),
                tool_call("find_slots", {"appointment_type": 12, "when": "x"}, call_id="call_inv"),
            ]
        ),
        recover,
    )
    conversation = conversation_start(office_a.organization)
    reply = run_turn(conversation=conversation, message=patient_says(conversation, "book"))

    assert reply.text == "What kind of visit do you need?"
    assert not reply.fell_back
    assert seen["call_bad"]["error"] == "invalid_json"
    assert seen["call_unknown"]["error"] == "unknown_tool"
    assert seen["call_inv"]["error"] == "invalid_arguments"
    assert "unknown argument 'when'" in seen["call_inv"]["message"]
    calls = _tool_calls(office_a.organization)
    assert [(c.call_id, c.error) for c in calls] == [
        ("call_bad", "invalid_json"),
        ("call_unknown", "unknown_tool"),
        ("call_inv", "invalid_arguments"),
    ]


def test_the_request_carries_the_tools_and_the_organizations_prompt(openai_server, office_a):
    openai_server.push(text_completion("Hi! Welcome to Alpha Dental. This is Lexi."))
    conversation = conversation_start(office_a.organization)
    run_turn(conversation=conversation, message=patient_says(conversation, "hello"))

    (request,) = openai_server.requests
    assert request["model"] == "gpt-4o-mini"
    assert {t["function"]["name"] for t in request["tools"]} >= {"find_slots", "book_appointment"}
    system = request["messages"][0]
    assert system["role"] == "system"
    assert (
        "Hi! Welcome to Alpha Dental. This is Lexi. How can I help you today?"
        in (system["content"])
    )
    assert request["messages"][-1] == {"role": "user", "content": "hello"}


def test_the_organizations_model_is_used(openai_server, office_a):
    office_a.organization.lexi_model = "my-local-model"
    office_a.organization.save()
    openai_server.push(text_completion("Hello"))
    conversation = conversation_start(office_a.organization)
    run_turn(conversation=conversation, message=patient_says(conversation, "hello"))
    assert openai_server.requests[0]["model"] == "my-local-model"


def test_a_long_model_reply_is_capped_for_sms(openai_server, office_a):
    openai_server.push(text_completion("word " * 1000))
    conversation = conversation_start(office_a.organization)
    reply = run_turn(conversation=conversation, message=patient_says(conversation, "hi"))
    assert len(reply.text) == MAX_REPLY_CHARS


def test_the_reply_is_not_stored_by_the_turn(openai_server, office_a):
    openai_server.push(text_completion("Hello"))
    conversation = conversation_start(office_a.organization)
    run_turn(conversation=conversation, message=patient_says(conversation, "hi"))
    with tenant_scope(office_a.organization):
        assert list(Message.objects.values_list("role", flat=True)) == ["user"]


def test_a_model_that_fails_after_booking_still_tells_the_patient_it_is_booked(
    openai_server, office_a, patient_a, settings
):
    from tests.lexi.openai_server import Respond

    settings.LEXI_TURN_DEADLINE_SECONDS = 2.0
    settings.LEXI_LLM_TIMEOUT_SECONDS = 0.5
    organization = office_a.organization
    openai_server.push(
        tool_calls_completion(
            [
                tool_call("find_patient", {}, call_id="call_find_patient"),
                tool_call(
                    "find_slots",
                    {"appointment_type": "cleaning", "limit": 3},
                    call_id="call_find_slots",
                ),
            ]
        ),
        _first_slots_then_book,
    )
    openai_server.always(Respond(status=500, body={"error": {"message": "boom"}}))
    conversation = conversation_start(organization)
    message = patient_says(conversation, "Book me the first cleaning you have, please")

    reply = run_turn(conversation=conversation, message=message)

    with tenant_scope(organization):
        appointment = Appointment.objects.select_related("provider").get()
        conversation.refresh_from_db()
    booked = [c for c in _tool_calls(organization) if c.name == "book_appointment"]
    assert len(booked) == 1
    assert reply.fell_back
    assert conversation.needs_attention
    assert conversation.lexi_paused_until is not None  # "our team will follow up": she pauses
    assert reply.text.startswith("You're booked: Cleaning on ")
    assert (booked[0].result or {})["start_text"] in reply.text
    assert appointment.provider.name in reply.text
    assert "Welcome" not in reply.text
