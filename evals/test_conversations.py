"""Each conversation in conversations.json, through the signed webhook, judged by what it left
in the database (visits booked, moved or cancelled, staff flagged, an opt-out) and said."""

import json
from pathlib import Path
from typing import Any

import pytest
import time_machine

from booking.models import Appointment
from conversations.models import Conversation, Message
from sms.models import SmsOptOut
from tenants.scoping import tenant_scope
from tests.factories import PhoneNumberFactory
from tests.lexi.offline_cases import NOW, PHONE, Existing, existing_create, offline_office_setup
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

CONVERSATIONS = json.loads((Path(__file__).parent / "conversations.json").read_text())
CLINIC_NUMBER = "+18504036622"
SETUPS = {
    "none": Existing(),
    "ana": Existing(patients=[("Ana", "Lopez")]),
    "ana_cleaning": Existing(
        patients=[("Ana", "Lopez")],
        appointments=[("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl")],
    ),
    "family": Existing(patients=[("Ana", "Lopez"), ("Leo", "Lopez")]),
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(org_a: Any, settings: Any) -> Any:
    settings.BOOKING_MIN_NOTICE_MINUTES = 120
    settings.BOOKING_SLOT_MINUTES = 30
    settings.LEXI_ENGINE = "offline"
    PhoneNumberFactory(organization=org_a, number=CLINIC_NUMBER)
    with time_machine.travel(NOW, tick=False):
        yield offline_office_setup(org_a)


def _visits(organization: Any) -> dict[int, tuple[str, str, str, str]]:
    with tenant_scope(organization):
        return {
            a.pk: (a.patient.first_name, a.appointment_type.name, a.status, a.start.isoformat())
            for a in Appointment.objects.select_related("patient", "appointment_type")
        }


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_conversation(conversation: dict[str, Any], office: Any, client: Any) -> None:
    organization = office.organization
    existing_create(office, SETUPS[conversation["existing"]])
    before = _visits(organization)
    replies: list[str] = []
    for text in conversation["texts"]:
        response = signed_post(client, twilio_payload(Body=text, From=PHONE, To=CLINIC_NUMBER))
        replies += reply_texts(response)
    after = _visits(organization)
    said = " ".join(replies)
    expect = conversation["expect"]
    new = [v for pk, v in after.items() if pk not in before and v[2] == "scheduled"]
    if "book" in expect:
        first, kind = expect["book"]
        booked = [v for v in new if (v[0], v[1]) == (first, kind)]
        assert booked, (new, replies)
        if "on" in expect:
            assert booked[0][3].startswith(expect["on"]), (booked, replies)
    if expect.get("no_booking"):
        assert new == [], replies
    if "cancel" in expect:
        cancelled = [pk for pk, v in after.items() if v[2] == "cancelled"]
        assert len(cancelled) == expect["cancel"], replies
    if expect.get("move"):
        [(pk, old)] = before.items()
        assert after[pk][3] != old[3], replies
        assert after[pk][2] == "scheduled", replies
        assert len([v for v in after.values() if v[2] == "scheduled"]) == 1, (after, replies)
    with tenant_scope(organization):
        flagged = Conversation.objects.filter(needs_attention=True).exists()
        opted_out = SmsOptOut.objects.filter(phone=PHONE, opted_out=True).exists()
        stored = Message.objects.filter(role="user").count()
    assert stored == len(conversation["texts"])
    if "handoff" in expect:
        assert flagged is expect["handoff"], replies
    if "opted_out" in expect:
        assert opted_out is expect["opted_out"], replies
    for words in expect.get("says", []):
        assert words in said, (words, replies)
