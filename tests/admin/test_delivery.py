"""The console shows what became of each outbound text, and finds conversations where one failed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conversations.models import Message
from tests.admin.builders import staff_user
from tests.factories import ConversationFactory, MessageFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:conversations_conversation_changelist"


@pytest.fixture
def clinic():
    return OrganizationFactory.create(name="Barton Dental")


@pytest.fixture
def staff_client(clinic) -> Client:
    client = Client()
    client.force_login(staff_user(clinic, "front-desk"))
    return client


def _outbound(conversation, status: str, code: int | None = None, text: str = "Hello") -> Message:
    return MessageFactory.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=text,
        delivery_status=status,
        delivery_error_code=code,
    )


def test_the_transcript_shows_each_outbound_state_and_a_failure_in_words(clinic, staff_client):
    conversation = ConversationFactory.create(organization=clinic)
    _outbound(conversation, "delivered", text="Your visit is booked")
    _outbound(conversation, "failed", 21211, text="Reminder")
    _outbound(conversation, "unknown", text="Maybe sent")

    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    body = staff_client.get(url).content.decode()

    assert "Delivered" in body
    assert "Failed: the phone number is not valid" in body
    assert "Outcome unknown" in body
    assert "lexi-delivery-failed" in body


def test_the_changelist_filters_conversations_with_a_failed_delivery(clinic, staff_client):
    failed = ConversationFactory.create(organization=clinic, patient_name="Bounced Bea")
    _outbound(failed, "undelivered", 30003)
    fine = ConversationFactory.create(organization=clinic, patient_name="Delivered Dan")
    _outbound(fine, "delivered")

    body = staff_client.get(reverse(CHANGELIST) + "?delivery=failed").content.decode()

    assert "Bounced Bea" in body
    assert "Delivered Dan" not in body


def test_the_failed_delivery_filter_never_shows_another_clinic(clinic, staff_client):
    other = OrganizationFactory.create(name="Other Dental")
    theirs = ConversationFactory.create(organization=other, patient_name="Their Tom")
    _outbound(theirs, "failed", 21211)

    body = staff_client.get(reverse(CHANGELIST) + "?delivery=failed").content.decode()

    assert "Their Tom" not in body
