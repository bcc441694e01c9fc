"""Answering a reminder by text: C confirms; R and "cancel visit" start Lexi's flows for that
visit; a bare CANCEL is an opt-out (a carrier keyword) and staff are asked to call."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from booking.models import Appointment
from conversations.models import Conversation, Message, Outcome
from sms.models import SmsOptOut
from tenants.scoping import tenant_scope
from tests.reminders.conftest import CLINIC_NUMBER, NEW_YORK, PATIENT_PHONE, at
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db

VISIT = at(NEW_YORK, 2026, 12, 10, 10, 0)
REMINDED = VISIT - timedelta(days=2)


@pytest.fixture(autouse=True)
def _offline(settings: Any) -> None:
    settings.LEXI_ENGINE = "offline"


@pytest.fixture
def reminded(clinic, book, sweep, outbox) -> Any:
    """Ann's visit, reminded two days before; the clock stays then (plus a minute)."""
    visit = book(VISIT)
    sweep(REMINDED)
    assert len(outbox) == 1
    with time_machine.travel(REMINDED + timedelta(minutes=1), tick=False):
        yield visit


def say(client: Any, body: str) -> str:
    response = signed_post(client, twilio_payload(Body=body, From=PATIENT_PHONE, To=CLINIC_NUMBER))
    assert response.status_code == 200
    texts = reply_texts(response)
    return texts[0] if texts else ""


def visit_now(clinic: Any, visit: Appointment) -> Appointment:
    with tenant_scope(clinic):
        return Appointment.objects.get(pk=visit.pk)


@pytest.mark.parametrize(
    "answer", ["C", "c", "Confirm!", "\U0001f44d", "\U0001f44d\U0001f3fd", "yes"]
)
def test_a_confirmation_confirms_the_visit_and_lexi_answers_in_one_line(
    client, clinic, reminded, answer
):
    reply = say(client, answer)

    assert (
        reply == "Thanks, Ann! Your cleaning on Thu Dec 10 at 10:00 AM is confirmed. See you then!"
    )
    assert visit_now(clinic, reminded).confirmed_at == REMINDED + timedelta(minutes=1)
    with tenant_scope(clinic):
        text = Message.objects.get(role=Message.Role.USER)
        conversation = Conversation.objects.get()
    assert text.outcome == Outcome.ANSWERED
    assert text.metadata["reminder"]["action"] == "confirm"
    assert conversation.message_count == 3  # reminder, answer, confirmation: one thread


def test_c_without_a_reminder_before_it_confirms_nothing(client, clinic, book):
    visit = book(VISIT)
    with time_machine.travel(REMINDED, tick=False):
        reply = say(client, "C")

    assert "confirmed" not in reply
    assert visit_now(clinic, visit).confirmed_at is None


def test_c_after_lexi_asked_something_else_is_not_a_confirmation(client, clinic, reminded):
    say(client, "what are your hours?")
    reply = say(client, "yes")

    assert "confirmed" not in reply
    assert visit_now(clinic, reminded).confirmed_at is None


def test_r_starts_rescheduling_that_visit(client, clinic, reminded):
    reply = say(client, "R")

    assert reply == (
        "Your Cleaning is Thu Dec 10 at 10:00 AM with Dr. Pearl. What day and time would work "
        "better?"
    )
    with tenant_scope(clinic):
        conversation = Conversation.objects.get()
    assert conversation.lexi_state["flow"] == "reschedule"
    assert conversation.lexi_state["appointment"]["appointment_id"] == str(reminded.pk)
    assert visit_now(clinic, reminded).start == VISIT


def test_r_picks_the_reminded_visit_among_several(client, clinic, book, reminded):
    book(VISIT + timedelta(days=5))

    say(client, "reschedule")

    with tenant_scope(clinic):
        state = Conversation.objects.get().lexi_state
    assert state["appointment"]["appointment_id"] == str(reminded.pk)


def test_cancel_visit_asks_to_confirm_then_cancels_that_visit(client, clinic, book, reminded):
    other = book(VISIT + timedelta(days=5))

    reply = say(client, "Cancel visit")
    assert "Reply yes to cancel it or no to keep it." in reply
    assert visit_now(clinic, reminded).status == Appointment.Status.SCHEDULED

    reply = say(client, "yes")

    assert "is cancelled" in reply
    assert visit_now(clinic, reminded).status == Appointment.Status.CANCELLED
    assert visit_now(clinic, other).status == Appointment.Status.SCHEDULED


def test_a_bare_cancel_opts_out_and_asks_staff_to_call(client, clinic, reminded):
    reply = say(client, "Cancel")

    assert reply == ""  # Twilio's own opt-out confirmation answers a carrier keyword
    with tenant_scope(clinic):
        assert SmsOptOut.objects.get(phone=PATIENT_PHONE).opted_out
        conversation = Conversation.objects.get()
    assert conversation.needs_attention
    assert "call if they meant to cancel it" in conversation.attention_reason
    assert visit_now(clinic, reminded).status == Appointment.Status.SCHEDULED


def test_another_answer_is_a_lexi_turn_that_knows_the_visit(client, clinic, reminded):
    reply = say(client, "Can I move it to friday?")

    with tenant_scope(clinic):
        text = Message.objects.get(role=Message.Role.USER)
        state = Conversation.objects.get().lexi_state
    assert text.metadata["reminder"] == {
        "appointment_id": str(reminded.pk),
        "reminder_id": text.metadata["reminder"]["reminder_id"],
        "action": "",
    }
    assert state["flow"] == "reschedule"
    assert state["appointment"]["appointment_id"] == str(reminded.pk)
    assert "Fri Dec 11" in reply
    assert not reply.startswith("Hi!")


def test_a_confirmation_of_a_visit_cancelled_since_confirms_nothing(client, clinic, reminded):
    with tenant_scope(clinic):
        Appointment.objects.filter(pk=reminded.pk).update(status=Appointment.Status.CANCELLED)

    reply = say(client, "C")

    assert "confirmed" not in reply
    assert visit_now(clinic, reminded).confirmed_at is None


def test_the_model_sees_the_reminder_and_is_told_which_visit_to_move(
    client, clinic, reminded, openai_server
):
    from tests.lexi.openai_server import text_completion

    openai_server.push(text_completion("Sure! What day works better for you?"))

    reply = say(client, "R")

    assert reply == "Sure! What day works better for you?"
    [request] = openai_server.requests
    messages = request["messages"]
    assert any(
        m["role"] == "assistant" and m["content"].startswith("Hi Ann, this is Alpha Dental")
        for m in messages
    )
    note = messages[-2]
    assert note["role"] == "system"
    assert f"appointment_id {reminded.pk}" in note["content"]
    assert "reschedule_appointment" in note["content"]
    assert messages[-1] == {"role": "user", "content": "R"}


def test_in_the_queued_mode_a_confirmation_is_still_answered_at_once(
    client, clinic, reminded, outbox, settings, django_capture_on_commit_callbacks
):
    settings.LEXI_REPLY_MODE = "queued"
    outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        inline = say(client, "C")

    assert inline.startswith("Thanks, Ann!")
    assert outbox == []
    assert visit_now(clinic, reminded).confirmed_at is not None


def test_in_the_queued_mode_the_worker_starts_rescheduling_the_reminded_visit(
    client, clinic, reminded, outbox, settings, django_capture_on_commit_callbacks
):
    settings.LEXI_REPLY_MODE = "queued"
    outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        inline = say(client, "R")

    assert inline == ""
    [worker_reply] = outbox
    assert worker_reply.body.endswith("What day and time would work better?")


def test_a_spanish_speaking_patient_is_reminded_and_confirmed_in_spanish(
    client, clinic, book, sweep, outbox
):
    with time_machine.travel(REMINDED - timedelta(days=3), tick=False):
        say(client, "Hola, buenos días, tengo una pregunta")
    visit = book(VISIT)
    sweep(REMINDED)

    [reminder] = [sent.body for sent in outbox]
    with time_machine.travel(REMINDED + timedelta(minutes=1), tick=False):
        reply = say(client, "sí")

    assert reminder.startswith("Hola Ann, le escribimos de")
    assert "el jue 10 dic a las 10:00" in reminder
    assert reply == (
        "¡Gracias, Ann! Su cita de cleaning del jue 10 dic a las 10:00 está confirmada. "
        "¡Le esperamos!"
    )
    assert visit_now(clinic, visit).confirmed_at is not None
