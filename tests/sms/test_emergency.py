"""An emergency by text: 911 first when breathing is at stake; staff alerted; the earliest
emergency visit offered, and a "yes" books it (Lexi is not paused while she offers it)."""

import pytest

from booking.models import Appointment
from conversations.models import Conversation
from frontdesk.pause import lexi_paused
from tenants.scoping import tenant_scope
from tests.factories import PatientFactory
from tests.lexi.conftest import office_setup
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db

PATIENT = "+16195551234"


def _text(client, body: str) -> list[str]:
    return reply_texts(signed_post(client, twilio_payload(Body=body)))


def test_an_emergency_visit_offered_is_booked_on_yes_and_staff_are_alerted(client, clinic_a):
    office_setup(clinic_a)
    with tenant_scope(clinic_a):
        PatientFactory.create(organization=clinic_a, phone=PATIENT, first_name="Ana")

    [offer] = _text(client, "my crown fell off and it hurts when I drink")
    with tenant_scope(clinic_a):
        conversation = Conversation.objects.get()
    [booked] = _text(client, "yes")

    assert "Earliest emergency visit" in offer
    assert "I've alerted our team" in offer
    assert conversation.needs_attention
    assert not lexi_paused(conversation=conversation)
    assert "You're booked!" in booked
    with tenant_scope(clinic_a):
        assert Appointment.objects.get().appointment_type.name == "Emergency"


def test_trouble_breathing_is_told_to_call_911_first(client, clinic_a):
    office_setup(clinic_a)

    [reply] = _text(client, "my face is swollen and I'm having trouble breathing")

    assert reply.startswith("If you are having trouble breathing or swallowing, call 911")
