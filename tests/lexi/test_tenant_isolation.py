"""Whatever ids the model sends, a turn for organization A never reads or books B's data."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import Appointment, Patient
from booking.selectors import slots_available
from conversations.models import Conversation, ToolCall
from tenants.scoping import tenant_scope, unscoped
from tests.factories import AppointmentFactory, PatientFactory
from tests.lexi.conftest import SENDER, conversation_start, patient_says
from tests.lexi.edge import run_turn
from tests.lexi.openai_server import text_completion, tool_call, tool_calls_completion

pytestmark = pytest.mark.django_db


def _snapshot(organization) -> dict:
    with tenant_scope(organization):
        return {
            "patients": sorted(
                Patient.objects.values_list("pk", "first_name", "last_name", "phone")
            ),
            "appointments": sorted(
                Appointment.objects.values_list("pk", "patient_id", "status", "start", "end")
            ),
            "tool_calls": ToolCall.objects.count(),
            "flagged": list(Conversation.objects.values_list("pk", "needs_attention")),
        }


def test_a_turn_for_a_never_reads_or_books_bs_data(openai_server, office_a, office_b, patient_a):
    org_b = office_b.organization
    # Same phone in both clinics: the phone alone must not cross the tenant line.
    bianca = PatientFactory.create(
        organization=org_b, first_name="Bianca", last_name="Bravo", phone=SENDER
    )
    start = (timezone.now() + timedelta(days=4)).replace(hour=9, minute=0, second=0, microsecond=0)
    b_appointment = AppointmentFactory.create(
        provider=office_b.provider,
        patient=bianca,
        appointment_type=office_b.exam,
        start=start,
    )
    b_conversation = conversation_start(org_b)
    with tenant_scope(org_b):
        today = timezone.localdate()
        b_slot = slots_available(
            organization=org_b,
            appointment_type=office_b.cleaning,
            start_date=today,
            end_date=today + timedelta(days=13),
            limit=1,
        )[0].slot_id
    before_b = _snapshot(org_b)

    results: dict = {}

    def record(request, server):
        for message in request["messages"]:
            if message["role"] == "tool":
                results[message["tool_call_id"]] = json.loads(message["content"])
        return text_completion("Done.")

    calls = [
        tool_call("find_patient", {}, call_id="find_any"),
        tool_call("find_patient", {"first_name": "Bianca"}, call_id="find_bianca"),
        tool_call("list_appointments", {}, call_id="list_mine"),
        tool_call("list_appointments", {"patient_id": str(bianca.pk)}, call_id="list_b"),
        tool_call(
            "book_appointment",
            {"slot_id": b_slot, "patient_id": str(patient_a.pk)},
            call_id="book_b_slot",
        ),
        tool_call(
            "book_appointment",
            {"slot_id": b_slot, "patient_id": str(bianca.pk)},
            call_id="book_b_patient",
        ),
        tool_call(
            "reschedule_appointment",
            {"appointment_id": str(b_appointment.pk), "slot_id": b_slot},
            call_id="move_b",
        ),
        tool_call("cancel_appointment", {"appointment_id": str(b_appointment.pk)}, call_id="x_b"),
        tool_call(
            "register_patient",
            {
                "first_name": "Eve",
                "last_name": "Intruder",
                "date_of_birth": "1980-01-01",
                "organization": str(org_b.pk),
            },
            call_id="register_in_b",
        ),
        tool_call("hand_off_to_staff", {"reason": "x", "conversation_id": b_conversation.pk}),
    ]
    openai_server.push(tool_calls_completion(calls), record)
    conversation = conversation_start(office_a.organization)
    run_turn(conversation=conversation, message=patient_says(conversation, "hi"))

    assert [p["first_name"] for p in results["find_any"]["patients"]] == ["Ana"]
    assert results["find_bianca"] == {"patients": []}
    assert results["list_mine"] == {"appointments": []}
    assert results["list_b"]["error"] == "patient_not_found"
    assert results["book_b_slot"]["error"] == "invalid_slot"
    assert results["book_b_patient"]["error"] == "patient_not_found"
    assert results["move_b"]["error"] == "appointment_not_found"
    assert results["x_b"]["error"] == "appointment_not_found"
    assert results["register_in_b"]["error"] == "invalid_arguments"
    assert "Bianca" not in json.dumps(results)
    assert _snapshot(org_b) == before_b
    with tenant_scope(office_a.organization):
        assert not Appointment.objects.exists()
        assert list(Patient.objects.values_list("first_name", flat=True)) == ["Ana"]
    with unscoped():
        assert not ToolCall.objects.filter(organization=org_b).exists()


def test_slots_offered_in_a_are_a_slots_only(openai_server, office_a, office_b, patient_a):
    offered: dict = {}

    def keep(request, server):
        offered.update(json.loads(request["messages"][-1]["content"]))
        return text_completion("Here you go.")

    openai_server.push(
        tool_calls_completion(
            [tool_call("find_slots", {"appointment_type": "cleaning", "provider": "Dr. Pearl"})]
        ),
        keep,
    )
    conversation = conversation_start(office_a.organization)
    run_turn(conversation=conversation, message=patient_says(conversation, "cleaning"))
    slot_id = offered["slots"][0]["slot_id"]

    # The same id replayed in B's turn is refused there.
    bianca = PatientFactory.create(organization=office_b.organization, phone=SENDER)
    openai_server.push(
        tool_calls_completion(
            [
                tool_call(
                    "book_appointment",
                    {"slot_id": slot_id, "patient_id": str(bianca.pk)},
                    call_id="replay",
                )
            ]
        ),
        lambda request, server: text_completion(request["messages"][-1]["content"]),
    )
    b_conversation = conversation_start(office_b.organization)
    reply = run_turn(conversation=b_conversation, message=patient_says(b_conversation, "book"))

    assert "invalid_slot" in reply.text
    with unscoped():
        assert not Appointment.objects.exists()
