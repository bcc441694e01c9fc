"""The tools, run directly as an engine runs them: validation, errors, logging, confinement."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from booking.models import Appointment, Patient, ScheduleBlock
from conversations.models import ToolCall
from lexi.context import TurnContext
from lexi.tools import TOOL_NAMES, TOOL_SCHEMAS, start_text
from lexi.tools.results import ToolResult
from tenants.scoping import tenant_scope
from tests.factories import AppointmentFactory, ClosureFactory, PatientFactory
from tests.lexi.conftest import SENDER, Office, conversation_start, patient_says
from tests.lexi.edge import tool_run

pytestmark = pytest.mark.django_db


def _context(office: Office, phone: str = SENDER, text: str = "hi") -> TurnContext:
    conversation = conversation_start(office.organization, phone)
    message = patient_says(conversation, text)
    return TurnContext(
        organization=office.organization,
        conversation=conversation,
        message=message,
        channel="sms",
        sender_phone=phone,
        now=timezone.now().astimezone(office.organization.tzinfo),
        engine="test",
    )


def _tool_calls(office: Office) -> list[ToolCall]:
    with tenant_scope(office.organization):
        return list(ToolCall.objects.select_related("message").order_by("id"))


def _future_appointment(office: Office, patient: Patient, days: int = 3) -> Appointment:
    start = (timezone.now() + timedelta(days=days)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    return AppointmentFactory.create(
        provider=office.provider, patient=patient, appointment_type=office.exam, start=start
    )


def test_schemas_forbid_extra_arguments_and_name_every_tool():
    assert len(TOOL_SCHEMAS) == len(TOOL_NAMES) == 9
    for schema in TOOL_SCHEMAS:
        assert schema["type"] == "function"
        assert schema["function"]["parameters"]["additionalProperties"] is False


def test_start_text_reads_like_a_text_message():
    assert start_text(datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == "Tue Dec 1 at 10:00 AM"
    assert start_text(datetime(2026, 12, 3, 15, 30, tzinfo=UTC)) == "Thu Dec 3 at 3:30 PM"
    assert start_text(datetime(2026, 12, 3, 0, 5, tzinfo=UTC)) == "Thu Dec 3 at 12:05 AM"
    new_york = ZoneInfo("America/New_York")
    assert start_text(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), tz=new_york) == (
        "Tue Dec 1 at 10:00 AM"
    )


def test_office_info_gives_profile_types_and_local_today(office_a):
    context = _context(office_a)
    result = tool_run(context=context, name="get_office_info", arguments={})
    assert result.ok
    assert result.data["name"] == "Alpha Dental"
    assert result.data["today"] == context.now.date().isoformat()
    assert result.data["appointment_types"] == ["Cleaning", "Emergency", "Exam"]
    assert result.data["providers"] == ["Dr. Pearl"]


def test_office_info_for_a_day_says_whether_the_office_is_open(office_a):
    context = _context(office_a)
    today = context.now.date()
    closed = today + timedelta(days=2)
    ClosureFactory.create(organization=office_a.organization, date=closed, reason="Staff day")
    ClosureFactory.create(
        organization=office_a.organization,
        date=today + timedelta(days=3),
        provider=office_a.provider,
        reason="Dr. Pearl away",
    )

    def day(offset: int) -> dict:
        asked = (today + timedelta(days=offset)).isoformat()
        result = tool_run(context=context, name="get_office_info", arguments={"date": asked})
        assert result.ok
        return result.data["day"]

    assert day(1) == {
        "date": (today + timedelta(days=1)).isoformat(),
        "open": True,
        "closed_for": "",
    }
    assert day(2)["open"] is False
    assert day(2)["closed_for"] == "Staff day"
    assert day(3)["open"] is True  # one provider away is not the office closed


def test_office_info_for_a_weekday_without_hours_is_closed(office_b):
    context = _context(office_b)
    with tenant_scope(office_b.organization):
        ScheduleBlock.objects.filter(weekday=6).delete()
    sunday = context.now.date() + timedelta(days=(6 - context.now.weekday()) % 7 or 7)
    result = tool_run(context=context, name="get_office_info", arguments={"date": str(sunday)})
    assert result.data["day"] == {"date": sunday.isoformat(), "open": False, "closed_for": ""}
    bad = tool_run(context=context, name="get_office_info", arguments={"date": "tomorrow"})
    assert bad.error == "invalid_arguments"


def test_find_patient_uses_the_senders_phone_not_the_arguments(office_a, patient_a):
    PatientFactory.create(organization=office_a.organization, first_name="Bo", phone="+16195550999")
    context = _context(office_a)
    result = tool_run(context=context, name="find_patient", arguments={"phone": "+16195550999"})
    assert result.error == "invalid_arguments"
    result = tool_run(context=context, name="find_patient", arguments="{}")
    assert [p["first_name"] for p in result.data["patients"]] == ["Ana"]


def test_register_patient_files_the_patient_under_the_senders_phone(office_a):
    context = _context(office_a)
    result = tool_run(
        context=context,
        name="register_patient",
        arguments={"first_name": "Lee", "last_name": "Park", "date_of_birth": "1990-04-02"},
    )
    assert result.ok
    with tenant_scope(office_a.organization):
        patient = Patient.objects.get(pk=result.data["patient_id"])
    assert patient.phone == SENDER
    assert patient.date_of_birth == date(1990, 4, 2)


def test_identified_patient_is_remembered_on_the_conversation_for_staff(office_a, patient_a):
    context = _context(office_a)
    assert context.conversation.patient_name == ""
    tool_run(context=context, name="find_patient", arguments={})
    with tenant_scope(office_a.organization):
        context.conversation.refresh_from_db()
    assert context.conversation.patient_name == f"{patient_a.first_name} {patient_a.last_name}"


def test_several_patients_on_one_phone_leave_the_conversation_unnamed(office_a, patient_a):
    PatientFactory.create(organization=office_a.organization, first_name="Mia", phone=SENDER)
    context = _context(office_a)
    result = tool_run(context=context, name="find_patient", arguments={})
    assert len(result.data["patients"]) == 2
    with tenant_scope(office_a.organization):
        context.conversation.refresh_from_db()
    assert context.conversation.patient_name == ""


def test_register_patient_with_an_impossible_birth_date_is_refused(office_a):
    context = _context(office_a)
    result = tool_run(
        context=context,
        name="register_patient",
        arguments={"first_name": "Lee", "last_name": "Park", "date_of_birth": "1990-02-30"},
    )
    assert (result.ok, result.error) == (False, "invalid_arguments")
    with tenant_scope(office_a.organization):
        assert not Patient.objects.exists()


def test_find_slots_then_book_creates_the_appointment_and_logs_both_calls(office_a, patient_a):
    context = _context(office_a)
    slots = tool_run(
        context=context,
        name="find_slots",
        arguments={"appointment_type": "cleaning", "part_of_day": "morning", "limit": 2},
        call_id="call_1",
    )
    assert slots.ok
    assert len(slots.data["slots"]) == 2
    assert all(datetime.fromisoformat(s["start"]).hour < 12 for s in slots.data["slots"])
    chosen = slots.data["slots"][1]
    booked = tool_run(
        context=context,
        name="book_appointment",
        arguments={"slot_id": chosen["slot_id"], "patient_id": str(patient_a.pk)},
        call_id="call_2",
    )
    assert booked.ok, booked
    assert booked.data["start_text"] == chosen["start_text"]
    with tenant_scope(office_a.organization):
        appointment = Appointment.objects.select_related(
            "patient", "conversation", "appointment_type"
        ).get()
    assert appointment.patient == patient_a
    assert appointment.conversation == context.conversation
    assert appointment.appointment_type == office_a.cleaning
    calls = _tool_calls(office_a)
    assert [(c.name, c.call_id, c.error, c.engine) for c in calls] == [
        ("find_slots", "call_1", "", "test"),
        ("book_appointment", "call_2", "", "test"),
    ]
    assert calls[1].message == context.message
    assert (calls[1].result or {})["appointment_id"] == str(appointment.pk)


def test_unknown_tool_is_a_structured_error_and_logged(office_a):
    context = _context(office_a)
    result = tool_run(context=context, name="delete_everything", arguments={})
    assert result.as_model_payload()["error"] == "unknown_tool"
    (call,) = _tool_calls(office_a)
    assert (call.name, call.error) == ("delete_everything", "unknown_tool")


def test_malformed_json_arguments_are_a_structured_error_and_logged(office_a):
    context = _context(office_a)
    result = tool_run(context=context, name="find_slots", arguments='{"appointment_type": "cle')
    assert result.as_model_payload() == {
        "error": "invalid_json",
        "message": "The arguments are not valid JSON.",
    }
    (call,) = _tool_calls(office_a)
    assert call.error == "invalid_json"
    assert call.arguments == {"_raw": '{"appointment_type": "cle'}


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "'appointment_type' is required"),
        ({"appointment_type": 7, "limit": 3}, ""),
        ({"appointment_type": ["x"]}, "'appointment_type' must be a string"),
        ({"appointment_type": "exam", "limit": 50}, "'limit' must be between 1 and 10"),
        ({"appointment_type": "exam", "part_of_day": "night"}, "'part_of_day' must be one of"),
        ({"appointment_type": "exam", "start_date": "tomorrow"}, "'start_date' must be a date"),
        ({"appointment_type": "exam", "organization": "b"}, "unknown argument 'organization'"),
    ],
)
def test_invalid_arguments_are_explained_to_the_model(office_a, arguments, problem):
    result = tool_run(context=_context(office_a), name="find_slots", arguments=arguments)
    if problem:
        assert result.error == "invalid_arguments"
        assert problem in result.message
    else:
        assert result.error == "unknown_appointment_type"  # 7 became "7", which names no type


def test_booking_refusals_come_back_with_the_booking_error_code(office_a, patient_a):
    result = tool_run(
        context=_context(office_a),
        name="book_appointment",
        arguments={"slot_id": "forged.slot:id", "patient_id": str(patient_a.pk)},
    )
    assert (result.ok, result.error) == (False, "invalid_slot")
    with tenant_scope(office_a.organization):
        assert not Appointment.objects.exists()


def test_an_unexpected_failure_becomes_internal_error_not_an_exception(office_a, patient_a):
    context = _context(office_a)
    context.organization.timezone = "Not/AZone"  # tzinfo lookup fails inside the tool
    result = tool_run(context=context, name="get_office_info", arguments={})
    assert (result.ok, result.error) == (False, "internal_error")
    (call,) = _tool_calls(office_a)
    assert call.error == "internal_error"


def test_another_phones_patient_cannot_be_booked_or_listed(office_a, patient_a):
    other = PatientFactory.create(organization=office_a.organization, phone="+16195550999")
    _future_appointment(office_a, other)
    context = _context(office_a)
    slot = tool_run(context=context, name="find_slots", arguments={"appointment_type": "exam"})
    booked = tool_run(
        context=context,
        name="book_appointment",
        arguments={"slot_id": slot.data["slots"][0]["slot_id"], "patient_id": str(other.pk)},
    )
    assert booked.error == "patient_not_found"
    listed = tool_run(context=context, name="list_appointments", arguments={})
    assert listed.data == {"appointments": []}
    listed = tool_run(
        context=context, name="list_appointments", arguments={"patient_id": str(other.pk)}
    )
    assert listed.error == "patient_not_found"
    with tenant_scope(office_a.organization):
        assert Appointment.objects.count() == 1


def test_reschedule_and_cancel_act_on_the_senders_appointment(office_a, patient_a):
    appointment = _future_appointment(office_a, patient_a)
    context = _context(office_a)
    listed = tool_run(context=context, name="list_appointments", arguments={})
    assert [a["appointment_id"] for a in listed.data["appointments"]] == [str(appointment.pk)]
    slots = tool_run(
        context=context,
        name="find_slots",
        arguments={"appointment_type": "exam", "part_of_day": "morning"},
    )
    moved = tool_run(
        context=context,
        name="reschedule_appointment",
        arguments={
            "appointment_id": str(appointment.pk),
            "slot_id": slots.data["slots"][0]["slot_id"],
        },
    )
    assert moved.ok, moved
    assert moved.data["start"] == slots.data["slots"][0]["start"]
    cancelled = tool_run(
        context=context,
        name="cancel_appointment",
        arguments={"appointment_id": str(appointment.pk), "reason": "travel"},
    )
    assert cancelled.data["status"] == "cancelled"
    with tenant_scope(office_a.organization):
        appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.start == datetime.fromisoformat(moved.data["start"])


def test_cancel_of_another_phones_appointment_changes_nothing(office_a, patient_a):
    other = PatientFactory.create(organization=office_a.organization, phone="+16195550999")
    appointment = _future_appointment(office_a, other)
    result = tool_run(
        context=_context(office_a),
        name="cancel_appointment",
        arguments={"appointment_id": str(appointment.pk)},
    )
    assert result.error == "appointment_not_found"
    with tenant_scope(office_a.organization):
        appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED


def test_hand_off_flags_the_conversation(office_a):
    context = _context(office_a)
    result = tool_run(context=context, name="hand_off_to_staff", arguments={"reason": "pain"})
    assert result.data == {"flagged": True}
    with tenant_scope(office_a.organization):
        context.conversation.refresh_from_db()
    assert context.conversation.needs_attention
    assert context.conversation.attention_reason == "pain"


def _slot_starts(office: Office, **arguments: object) -> list[datetime]:
    result = tool_run(
        context=_context(office),
        name="find_slots",
        arguments={"appointment_type": "exam"} | arguments,
    )
    assert result.ok, result.message
    return [datetime.fromisoformat(slot["start"]) for slot in result.data["slots"]]


def test_find_slots_start_time_keeps_only_slots_at_or_after_it_on_every_day(office_a):
    first_day = timezone.now().astimezone(office_a.organization.tzinfo).date() + timedelta(days=2)
    starts = _slot_starts(
        office_a,
        start_date=first_day.isoformat(),
        end_date=(first_day + timedelta(days=1)).isoformat(),
        start_time="15:30",
        limit=10,
    )
    # Dr. Pearl works until 17:00 every day: 15:30, 16:00 and 16:30 on each of the two days.
    assert [(s.date(), s.strftime("%H:%M")) for s in starts] == [
        (day, hhmm)
        for day in (first_day, first_day + timedelta(days=1))
        for hhmm in ("15:30", "16:00", "16:30")
    ]


def test_find_slots_start_time_reaches_past_the_earliest_slots_of_the_range(office_a):
    first_day = timezone.now().astimezone(office_a.organization.tzinfo).date() + timedelta(days=2)
    starts = _slot_starts(office_a, start_date=first_day.isoformat(), start_time="11:00", limit=3)
    assert [s.strftime("%H:%M") for s in starts] == ["11:00", "11:30", "13:00"]
    assert {s.date() for s in starts} == {first_day}


def test_find_slots_without_start_time_still_starts_at_the_earliest_slot(office_a):
    first_day = timezone.now().astimezone(office_a.organization.tzinfo).date() + timedelta(days=2)
    starts = _slot_starts(office_a, start_date=first_day.isoformat(), limit=2)
    assert [s.strftime("%H:%M") for s in starts] == ["08:00", "08:30"]


def test_find_slots_start_time_after_the_last_slot_finds_nothing(office_a):
    first_day = timezone.now().astimezone(office_a.organization.tzinfo).date() + timedelta(days=2)
    assert _slot_starts(office_a, start_date=first_day.isoformat(), start_time="16:31") == []


@pytest.mark.parametrize("start_time", ["11", "11am", "24:00", "9:60", "11:00:00"])
def test_find_slots_refuses_a_start_time_that_is_not_hh_mm(office_a, start_time):
    result = tool_run(
        context=_context(office_a),
        name="find_slots",
        arguments={"appointment_type": "exam", "start_time": start_time},
    )
    assert result.error == "invalid_arguments"
    assert "'start_time' must be a time as HH:MM" in result.message
    assert "slots" not in result.data


def _first_exam_slot(context: TurnContext) -> dict:
    slots = tool_run(context=context, name="find_slots", arguments={"appointment_type": "exam"})
    assert slots.ok, slots
    return slots.data["slots"][0]


def _book(context: TurnContext, slot: dict, patient: Patient, **extra: object) -> ToolResult:
    arguments = {"slot_id": slot["slot_id"], "patient_id": str(patient.pk), **extra}
    return tool_run(context=context, name="book_appointment", arguments=arguments)


def _scheduled(office: Office, patient: Patient) -> int:
    with tenant_scope(office.organization):
        return Appointment.objects.filter(patient=patient, status="scheduled").count()


def test_a_second_visit_of_the_same_type_within_two_weeks_is_refused_with_why(office_a, patient_a):
    _future_appointment(office_a, patient_a, days=5)
    context = _context(office_a)

    result = _book(context, _first_exam_slot(context), patient_a)

    assert (result.ok, result.error) == (False, "repeat_visit")
    assert "already has an upcoming Exam visit on" in result.message
    assert "another_visit" in result.message
    assert _scheduled(office_a, patient_a) == 1


def test_another_visit_confirmed_books_the_second_one(office_a, patient_a):
    _future_appointment(office_a, patient_a, days=5)
    context = _context(office_a)

    result = _book(context, _first_exam_slot(context), patient_a, another_visit=True)

    assert result.ok, result
    assert _scheduled(office_a, patient_a) == 2


def test_a_visit_of_the_same_type_weeks_away_does_not_count(office_a, patient_a):
    _future_appointment(office_a, patient_a, days=30)
    context = _context(office_a)

    assert _book(context, _first_exam_slot(context), patient_a).ok


def test_another_visit_must_be_true_or_false(office_a, patient_a):
    context = _context(office_a)

    result = _book(context, _first_exam_slot(context), patient_a, another_visit="maybe")

    assert (result.ok, result.error) == (False, "invalid_arguments")
    assert "'another_visit' must be true or false" in result.message
