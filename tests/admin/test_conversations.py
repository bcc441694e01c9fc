"""The Calls UI: changelist, transcript, resolve actions and statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Patient
from conversations.models import Conversation, Message
from tenants.scoping import tenant_scope, unscoped
from tests.admin.builders import booked_tool_call, staff_user
from tests.factories import (
    ConversationFactory,
    MessageFactory,
    OrganizationFactory,
    ToolCallFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:conversations_conversation_changelist"
DAY_ONE = datetime(2026, 11, 30, 14, 59, tzinfo=UTC)
DAY_ONE_STATS = "?period=custom&start=2026-11-30&end=2026-11-30"


@pytest.fixture
def clinic():
    return OrganizationFactory.create(name="Barton Dental", timezone="America/New_York")


@pytest.fixture
def staff_client(clinic) -> Client:
    client = Client()
    client.force_login(staff_user(clinic, "front-desk"))
    return client


def _conversations(clinic, count: int) -> None:
    for n in range(count):
        ConversationFactory.create(
            organization=clinic,
            channel=["sms", "voice", "whatsapp", "web"][n % 4],
            patient_name=f"Patient {n}",
            message_count=n,
            last_message_preview=f"preview {n}",
            last_message_at=datetime.now(UTC),
        )


def _changelist_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST) + "?all=")
        assert response.status_code == 200
    return len(queries)


def test_the_changelist_costs_the_same_queries_for_10_and_200_rows(clinic, staff_client) -> None:
    _conversations(clinic, 10)
    ten = _changelist_queries(staff_client)
    _conversations(clinic, 190)
    response = staff_client.get(reverse(CHANGELIST))
    assert response.content.decode().count('class="action-checkbox"') >= 50
    assert _changelist_queries(staff_client) == ten


def test_the_changelist_filters_by_channel(clinic, staff_client) -> None:
    ConversationFactory.create(organization=clinic, channel="sms", patient_name="Texting Tess")
    ConversationFactory.create(organization=clinic, channel="voice", patient_name="Calling Carl")
    body = staff_client.get(reverse(CHANGELIST) + "?channel=sms").content.decode()
    assert "Texting Tess" in body
    assert "Calling Carl" not in body


def test_the_changelist_shows_needs_attention_as_status(clinic, staff_client) -> None:
    ConversationFactory.create(organization=clinic, needs_attention=True, patient_name="Urgent Una")
    body = staff_client.get(reverse(CHANGELIST) + "?status=attention").content.decode()
    assert "Urgent Una" in body
    assert "Needs attention" in body


def test_search_finds_message_text_and_phone_numbers(clinic, staff_client) -> None:
    said = ConversationFactory.create(organization=clinic, patient_name="Said Sam")
    MessageFactory.create(conversation=said, content="my tooth is wobbly")
    ConversationFactory.create(
        organization=clinic, from_number="+16195551234", patient_name="Number Nina"
    )
    ConversationFactory.create(organization=clinic, patient_name="Other Otto")
    body = staff_client.get(reverse(CHANGELIST) + "?q=wobbly").content.decode()
    assert "Said Sam" in body
    assert "Other Otto" not in body
    body = staff_client.get(reverse(CHANGELIST) + "?q=(619) 555-1234").content.decode()
    assert "Number Nina" in body
    assert "Other Otto" not in body


def test_a_phone_number_search_matches_numbers_not_message_text(clinic, staff_client) -> None:
    ConversationFactory.create(
        organization=clinic, from_number="+16195551234", patient_name="Number Nina"
    )
    quoted = ConversationFactory.create(organization=clinic, patient_name="Quoting Quinn")
    MessageFactory.create(conversation=quoted, content="my old number was 555-1234")
    body = staff_client.get(reverse(CHANGELIST) + "?q=5551234").content.decode()
    assert "Number Nina" in body
    assert "Quoting Quinn" not in body


def _booked_conversation(clinic) -> Conversation:
    conversation = ConversationFactory.create(
        organization=clinic, patient_name="Pat Smith", start_timestamp=DAY_ONE
    )
    message = MessageFactory.create(
        conversation=conversation,
        content="<script>alert('x')</script> can I book a cleaning?",
        timestamp=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    )
    booked_tool_call(
        conversation=conversation, message=message, at=datetime(2026, 11, 30, 15, 0, 5, tzinfo=UTC)
    )
    ToolCallFactory.create(
        conversation=conversation,
        message=message,
        name="cancel_appointment",
        error="appointment_not_found",
        result={"error": "appointment_not_found", "message": "No upcoming appointment."},
        created_at=datetime(2026, 11, 30, 15, 0, 6, tzinfo=UTC),
    )
    MessageFactory.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content="You're booked!",
        fell_back=True,
        outcome="fallback",
        timestamp=datetime(2026, 11, 30, 15, 0, 7, tzinfo=UTC),
    )
    return conversation


def test_the_transcript_shows_bubbles_actions_in_words_and_escapes_text(
    clinic, staff_client
) -> None:
    conversation = _booked_conversation(clinic)
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    body = staff_client.get(url).content.decode()
    assert "Booked Cleaning with Dr. Pearl — Tue 1 Dec, 10:00" in body
    assert "Cancelling failed: No upcoming appointment." in body
    assert "lexi-failed" in body
    assert "Fallback reply" in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "<script>alert(" not in body
    assert "Mon 30 Nov, 10:00" in body  # 15:00 UTC on the clinic's New York clock
    assert "<details>" in body
    assert 'name="_save"' not in body  # the history is read-only


def test_staff_can_mark_resolved_and_clear_the_flag(clinic, staff_client) -> None:
    conversation = ConversationFactory.create(
        organization=clinic, needs_attention=True, attention_reason="emergency"
    )
    url = reverse("admin:conversations_conversation_resolve", args=[conversation.pk])
    assert staff_client.post(url, {"what": "clear"}).status_code == 302
    with unscoped():
        conversation.refresh_from_db()
    assert not conversation.needs_attention
    assert conversation.call_status == Conversation.Status.ONGOING
    staff_client.post(url, {"what": "complete"})
    with unscoped():
        conversation.refresh_from_db()
    assert conversation.call_status == Conversation.Status.COMPLETED
    assert conversation.end_timestamp is not None


def test_resolving_needs_a_post(clinic, staff_client) -> None:
    conversation = ConversationFactory.create(organization=clinic, needs_attention=True)
    url = reverse("admin:conversations_conversation_resolve", args=[conversation.pk])
    assert staff_client.get(url).status_code == 403
    with unscoped():
        conversation.refresh_from_db()
    assert conversation.needs_attention


def test_statistics_count_what_lexi_did_in_the_clinic_only(clinic, staff_client) -> None:
    _booked_conversation(clinic)
    ConversationFactory.create(organization=clinic, channel="voice", start_timestamp=DAY_ONE)
    other = OrganizationFactory.create(name="Elsewhere Dental")
    elsewhere = ConversationFactory.create(organization=other, start_timestamp=DAY_ONE)
    ToolCallFactory.create(
        conversation=elsewhere, name="book_appointment", result={}, created_at=DAY_ONE
    )
    with tenant_scope(clinic):
        Patient.objects.create(
            organization=clinic,
            first_name="New",
            last_name="Patient",
            phone="+16195550001",
            created_at=DAY_ONE,
        )
    response = staff_client.get(reverse("admin:lexi_statistics") + DAY_ONE_STATS)
    stats = response.context["stats"]
    assert stats.conversations == 2
    assert dict(stats.by_channel)["SMS"] == 1
    assert dict(stats.by_channel)["Voice"] == 1
    assert stats.booked == 1
    assert stats.failed_actions == 1
    assert stats.new_patients == 1
    assert stats.conversion_percent == 50
    assert stats.messages == 2
    assert stats.fallback_replies == 1
    assert stats.days[0].booked == 1
    assert "Elsewhere" not in response.content.decode()
    assert 'class="lexi-bar"' in response.content.decode()


def test_statistics_custom_period_covers_its_days(clinic, staff_client) -> None:
    _booked_conversation(clinic)
    start = datetime.now(UTC).date() - timedelta(days=3)
    url = f"{reverse('admin:lexi_statistics')}?period=custom&start={start}&end={start}"
    stats = staff_client.get(url).context["stats"]
    assert len(stats.days) == 1
    today = staff_client.get(reverse("admin:lexi_statistics") + "?period=today")
    assert len(today.context["stats"].days) == 1
    month = staff_client.get(reverse("admin:lexi_statistics") + "?period=30d")
    assert len(month.context["stats"].days) == 30


def test_staff_cannot_delete_a_conversation_but_a_platform_admin_can(clinic, staff_client) -> None:
    from tests.factories import UserFactory

    conversation = ConversationFactory.create(organization=clinic)
    url = reverse("admin:conversations_conversation_delete", args=[conversation.pk])

    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    with tenant_scope(clinic):
        assert Conversation.objects.filter(pk=conversation.pk).exists()

    platform = Client()
    platform.force_login(UserFactory.create(is_superuser=True))
    assert platform.post(url, {"post": "yes"}).status_code == 302
    with tenant_scope(clinic):
        assert not Conversation.objects.filter(pk=conversation.pk).exists()
