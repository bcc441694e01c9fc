"""End to end over HTTP with the real offline engine and the demo clinic's booking data.

These need the real engine (lexi.agent.run_turn -> offline engine) and the demo fixture's
providers, schedules and appointment types.
"""

from typing import Any

import pytest
from django.core.management import call_command

from conversations.models import Conversation
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db

BARTON_NUMBER = "+18504036622"
PATIENT = "+16195557788"


@pytest.fixture
def barton() -> Organization:
    call_command("loaddata", "demo", verbosity=0)
    return Organization.objects.get(slug="barton-dental")


def _say(client: Any, body: str) -> str:
    response = signed_post(client, twilio_payload(Body=body, From=PATIENT, To=BARTON_NUMBER))
    assert response.status_code == 200
    [reply] = reply_texts(response)
    print(f"patient> {body}\nlexi> {reply}")  # noqa: T201 -- the transcript, shown on failure
    return reply


def _answer_for(reply: str) -> str:
    """What a patient would say next, from what Lexi just asked."""
    asked = reply.lower()
    if "birth" in asked:
        return "03/14/1985"
    if "name" in asked:
        return "Maria Lopez"
    if "1)" in asked or "1." in asked or "option" in asked:
        return "1"
    if "?" in asked and any(w in asked for w in ("book", "confirm", "shall", "work for you")):
        return "yes"
    return "The first time you have"


def test_booking_by_text_ends_in_an_appointment_row(client, barton):
    from booking.models import Appointment

    reply = _say(client, "Hi, I'd like to book a cleaning next week")
    assert "Welcome to Barton Dental" in reply
    for _turn in range(10):
        with tenant_scope(barton):
            if Appointment.objects.exists():
                break
        reply = _say(client, _answer_for(reply))

    with tenant_scope(barton):
        [appointment] = Appointment.objects.all()
        conversation = Conversation.objects.get(from_number=PATIENT)
        booked_by_lexi = conversation.tool_calls.filter(name__icontains="book").exists()
    assert appointment.organization_id == barton.pk
    assert conversation.message_count >= 4
    assert booked_by_lexi


def test_third_reply_depends_on_the_first_text(client, barton):
    first = _say(client, "Hi, I'd like to book a cleaning next Wednesday")
    _say(client, "Maria Lopez")
    third = _say(client, "3/14/1985")

    assert "Welcome to Barton Dental" in first
    # The times offered after name and birth date are on the day asked for in the first text.
    assert "Wed" in third
    assert "Mon " not in third
