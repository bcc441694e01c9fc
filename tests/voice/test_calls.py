"""A patient calls the clinic's number: Lexi answers, books, hands over; the call is recorded."""

from __future__ import annotations

import pytest

from booking.models import Appointment
from conversations.models import Conversation, Message, ToolCall
from sms.models import SmsOptOut
from sms.sending import locmem
from tenants.scoping import tenant_scope, unscoped
from tests.factories import OrganizationFactory, PatientFactory, PhoneNumberFactory
from tests.lexi.openai_server import Respond, text_completion
from tests.voice.conftest import CALLER, CLINIC_NUMBER, INCOMING, OFFICE_PHONE, Caller

pytestmark = pytest.mark.django_db


def _conversation(caller: Caller) -> Conversation:
    with unscoped():
        return Conversation.objects.get(session_id=f"voice_{caller.call_sid}")


def _messages(caller: Caller) -> list[Message]:
    with unscoped():
        return list(Message.objects.filter(conversation=_conversation(caller)).order_by("id"))


def _tool_calls() -> int:
    with unscoped():
        return ToolCall.objects.count()


def _book_by_phone(caller: Caller) -> list[str]:
    said = [caller.dial().said]
    for words in ("I'd like to book a cleaning", "Monday morning", "the first one", "yes"):
        said.append(caller.say(words).said)
    return said


def test_a_call_is_greeted_and_opens_a_voice_conversation(clinic, caller):
    answer = caller.dial()

    assert answer.status == 200
    assert "Thanks for calling Alpha Dental" in answer.said
    assert answer.action == "/api/twilio/voice-turn?turn=1"
    conversation = _conversation(caller)
    assert (conversation.channel, conversation.from_number, conversation.direction) == (
        "voice",
        CALLER,
        "inbound",
    )
    assert [m.role for m in _messages(caller)] == ["assistant"]


def test_a_caller_books_a_visit_said_for_the_ear_and_gets_it_in_writing(
    office, caller, django_capture_on_commit_callbacks
):
    with tenant_scope(office.organization):
        patient = PatientFactory.create(
            organization=office.organization, first_name="Ana", last_name="Lopez", phone=CALLER
        )

    with django_capture_on_commit_callbacks(execute=True):
        said = _book_by_phone(caller)

    with unscoped():
        [visit] = Appointment.objects.filter(patient=patient)
    assert visit.appointment_type_id == office.cleaning.pk
    assert "You're booked" in said[-1]
    assert "in the morning" in said[-1]
    assert not any(mark in " ".join(said) for mark in ("1)", "2)", ":00", "Dr."))
    [text] = locmem.outbox
    assert (text.to_number, text.from_number) == (CALLER, CLINIC_NUMBER)
    assert "is booked for" in text.body
    spoken = [m for m in _messages(caller) if m.role == "user"]
    assert [m.metadata["confidence"] for m in spoken] == [0.92] * 4


def test_no_confirmation_text_to_a_caller_who_opted_out(
    office, caller, django_capture_on_commit_callbacks
):
    with tenant_scope(office.organization):
        PatientFactory.create(organization=office.organization, phone=CALLER)
        SmsOptOut.objects.create(organization=office.organization, phone=CALLER, keyword="STOP")

    with django_capture_on_commit_callbacks(execute=True):
        said = _book_by_phone(caller)

    assert "You're booked" in said[-1]
    assert locmem.outbox == []


def test_a_retried_turn_gets_the_same_answer_and_runs_once(office, caller):
    with tenant_scope(office.organization):
        PatientFactory.create(organization=office.organization, phone=CALLER)
    caller.dial()
    caller.say("I'd like to book a cleaning")
    action = caller.action
    first = caller.say("Monday morning")
    calls_after_first = _tool_calls()

    caller.action = action
    again = caller.say("Monday morning")

    assert again == first
    assert _tool_calls() == calls_after_first
    assert [m.content for m in _messages(caller) if m.role == "user"] == [
        "I'd like to book a cleaning",
        "Monday morning",
    ]


def test_silence_is_asked_twice_then_the_call_ends_politely(clinic, caller):
    caller.dial()

    first, second, third = caller.silence(), caller.silence(), caller.silence()

    assert "didn't hear anything" in first.said
    assert first.action
    assert "didn't hear anything" in second.said
    assert second.action
    assert third.hangup
    assert "Goodbye" in third.said
    assert [m.role for m in _messages(caller)] == ["assistant"]


def test_low_confidence_is_asked_again_not_acted_on(office, caller):
    caller.dial()

    answer = caller.say("cancel my appointment", confidence="0.2")

    assert "say it again" in answer.said
    assert _tool_calls() == 0
    assert _messages(caller)[1].outcome == "unclear"


def test_asking_for_a_person_puts_the_caller_through_to_the_office(office, caller):
    caller.dial()

    answer = caller.say("can I talk to a real person please")

    assert answer.dial == OFFICE_PHONE
    assert "call us" not in answer.said
    assert "connect you with our team" in answer.said
    assert answer.hangup
    assert _conversation(caller).needs_attention


def test_without_an_office_phone_lexi_takes_a_message_for_staff(office, caller):
    office.organization.phone = ""
    office.organization.save(update_fields=["phone"])
    caller.dial()

    answer = caller.say("I need to talk to someone")
    assert "tell me your message" in answer.said
    assert "take=message" in answer.action
    goodbye = caller.say("please call me back about my bill")

    assert goodbye.hangup
    assert "passed your message" in goodbye.said
    conversation = _conversation(caller)
    assert conversation.needs_attention
    assert _messages(caller)[-2].content == "please call me back about my bill"


def test_the_status_callback_closes_the_call_once_and_ignores_late_ones(clinic, caller):
    caller.dial()

    assert caller.hang_up("completed", "42").status_code == 204
    assert caller.hang_up("in-progress", "").status_code == 204
    assert caller.hang_up("busy", "").status_code == 204

    conversation = _conversation(caller)
    assert (conversation.call_status, conversation.duration_seconds) == ("completed", 42)
    assert conversation.end_timestamp is not None


def test_an_unanswered_call_is_recorded_as_such(clinic, caller):
    caller.dial()

    caller.hang_up("no-answer", "0")

    assert _conversation(caller).call_status == "no-answer"


def test_a_model_past_the_voice_deadline_gives_way_to_the_offline_engine(
    office, caller, openai_server, settings
):
    settings.LEXI_VOICE_DEADLINE_SECONDS = 0.5
    openai_server.always(Respond(delay=3, body=text_completion("too late")))
    caller.dial()

    answer = caller.say("what are your hours")

    assert answer.status == 200
    assert answer.action
    assert "too late" not in answer.said
    reply = _messages(caller)[-1]
    assert reply.fell_back
    assert reply.metadata["engine"] == "offline"


# Bad input: a 4xx, or polite words that end the call; never a 500.


def test_a_request_without_a_callsid_is_refused(clinic):
    caller = Caller()
    del caller.params["CallSid"]

    assert caller.post(INCOMING).status_code == 400


@pytest.mark.parametrize(
    "words",
    ["x" * 100_000, "book\x00 a cleaning\x00", "🦷🦷 cleaning please 😬", "   "],
    ids=["100KB", "NUL", "emoji", "blank"],
)
def test_odd_speech_gets_an_answer_not_an_error(office, caller, words):
    caller.dial()

    answer = caller.say(words)

    assert answer.status == 200
    assert answer.says
    assert answer.action or answer.hangup
    for message in _messages(caller):
        assert "\x00" not in message.content
        assert len(message.content) <= 1000


def test_an_unknown_callsid_at_voice_turn_ends_politely(clinic):
    caller = Caller()
    caller.action = "/api/twilio/voice-turn?turn=3"

    answer = caller.say("hello?")

    assert answer.hangup
    assert "call us back" in answer.said
    with unscoped():
        assert not Message.objects.exists()


def test_a_call_signed_with_another_clinics_token_is_refused(clinic):
    other = OrganizationFactory.create(
        twilio_auth_token="b" * 32, twilio_account_sid="AC" + "b" * 32
    )
    PhoneNumberFactory(organization=other, number="+16195550142", voice_enabled=True)
    forged = Caller(token="b" * 32)  # clinic B's token, for clinic A's number

    assert forged.post(INCOMING).status_code == 403
    assert Caller(token="not-the-token").post(INCOMING).status_code == 403
    with unscoped():
        assert not Conversation.objects.exists()


def test_a_callback_for_another_clinics_call_changes_nothing(clinic, caller):
    caller.dial()
    other = OrganizationFactory.create()
    PhoneNumberFactory(organization=other, number="+16195550142", voice_enabled=True)
    elsewhere = Caller(to_number="+16195550142")
    elsewhere.params["CallSid"] = caller.call_sid

    assert elsewhere.hang_up("completed", "9").status_code == 204

    assert _conversation(caller).call_status == "ongoing"


def test_a_number_that_only_texts_does_not_take_calls(org_a):
    PhoneNumberFactory(organization=org_a, number=CLINIC_NUMBER, voice_enabled=False)

    answer = Caller().dial()

    assert answer.hangup
    assert "not in service" in answer.said
    with unscoped():
        assert not Conversation.objects.exists()


def test_a_bad_turn_number_is_refused(clinic, caller):
    caller.dial()
    caller.action = "/api/twilio/voice-turn?turn=abc"

    assert caller.say("hello").status == 400
