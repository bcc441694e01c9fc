"""Staff take a conversation over from the console: reply, pause, hand back, assign, read;
the inbox they land on; every action in the conversation's history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, ConversationRead, Message, QuickReply
from conversations.services import conversation_complete, conversation_open, message_log
from frontdesk.pause import lexi_paused
from sms.models import SmsOptOut
from sms.sending import locmem
from tenants.scoping import tenant_scope, unscoped
from tests.admin.builders import staff_user
from tests.factories import (
    ConversationFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CLINIC_NUMBER = "+18505550111"
PATIENT = "+16195550111"
UNREAD = "lexi-inbox-row lexi-unread"


@pytest.fixture
def clinic():
    return OrganizationFactory.create(name="Barton Dental", timezone="America/New_York")


@pytest.fixture
def staff(clinic) -> Any:
    return staff_user(clinic, "front-desk")


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def conversation(clinic) -> Conversation:
    conversation = ConversationFactory.create(
        organization=clinic,
        from_number=PATIENT,
        to_number=CLINIC_NUMBER,
        patient_name="Ana Lopez",
        needs_attention=True,
        attention_reason="Patient asked for a person",
        waiting_since=timezone.now() - timedelta(minutes=42),
    )
    with tenant_scope(clinic):
        message_log(conversation=conversation, role="user", content="can someone call me?")
    return conversation


def _url(conversation: Conversation, action: str) -> str:
    return reverse(f"admin:conversations_conversation_{action}", args=[conversation.pk])


def _reload(conversation: Conversation) -> Conversation:
    with unscoped():
        return Conversation.objects.get(pk=conversation.pk)


def _history(conversation: Conversation) -> list[tuple[str, str]]:
    entries = LogEntry.objects.filter(object_id=str(conversation.pk)).order_by("action_time", "id")
    return [(e.user.get_username(), e.get_change_message()) for e in entries]


def _reply(client: Client, conversation: Conversation, body: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(_url(conversation, "reply"), {"body": body}, follow=True)


def test_staff_land_on_the_inbox_with_the_reason_and_the_wait(staff_client, conversation):
    response = staff_client.get(reverse("admin:index"))

    body = response.content.decode()
    assert "Needs attention" in body
    assert "Ana Lopez" in body
    assert "Patient asked for a person" in body
    assert "42 min" in body


def test_the_inbox_lists_the_longest_waiting_first_and_leaves_out_the_rest(clinic, staff_client):
    now = timezone.now()
    ConversationFactory.create(organization=clinic, patient_name="Quiet Quinn")
    ConversationFactory.create(
        organization=clinic, patient_name="Newer Nia", waiting_since=now - timedelta(minutes=5)
    )
    ConversationFactory.create(
        organization=clinic,
        patient_name="Older Omar",
        needs_attention=True,
        waiting_since=now - timedelta(hours=3),
    )

    body = staff_client.get(reverse("admin:index")).content.decode()

    assert "Quiet Quinn" not in body
    assert body.index("Older Omar") < body.index("Newer Nia")
    assert "3 h 00 min" in body


def test_a_reply_is_stored_as_staff_sent_from_the_clinic_number_and_pauses_lexi(
    staff, staff_client, conversation, django_capture_on_commit_callbacks
):
    response = _reply(
        staff_client, conversation, "Hi Ana, calling you now.", django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    [sent] = locmem.outbox
    assert (sent.from_number, sent.to_number, sent.body) == (
        CLINIC_NUMBER,
        PATIENT,
        "Hi Ana, calling you now.",
    )
    with unscoped():
        reply = Message.objects.get(conversation=conversation, role=Message.Role.STAFF)
    assert (reply.content, reply.sent_by, reply.outcome) == (
        "Hi Ana, calling you now.",
        staff,
        "staff",
    )
    assert reply.delivery_status == "sent"
    after = _reload(conversation)
    assert after.lexi_paused_until is not None
    assert after.lexi_paused_until > timezone.now() + timedelta(hours=11)
    assert after.waiting_since is None
    assert _history(conversation) == [("front-desk", "Replied to the patient")]


def test_the_transcript_shows_the_reply_its_sender_and_its_state(
    staff_client, conversation, django_capture_on_commit_callbacks
):
    response = _reply(staff_client, conversation, "On our way", django_capture_on_commit_callbacks)

    body = response.content.decode()
    assert "On our way" in body
    assert "Staff · front-desk" in body
    assert "Sent" in body
    assert "Waiting on staff" in body
    assert "Hand back to Lexi" in body


def test_a_failed_text_shows_why_in_words(staff_client, conversation):
    with tenant_scope(conversation.organization):
        message_log(
            conversation=conversation,
            role="staff",
            content="Are you there?",
            delivery_status="failed",
        )
        Message.objects.filter(content="Are you there?").update(delivery_error_code=30006)

    body = staff_client.get(_url(conversation, "change")).content.decode()

    assert "Failed: the number is a landline or cannot receive texts" in body


@pytest.mark.parametrize(
    ("body", "why"),
    [("", "The message is empty."), ("x" * 1601, "at most 1,600")],
)
def test_an_empty_or_too_long_reply_is_refused_with_a_clear_message(
    staff_client, conversation, django_capture_on_commit_callbacks, body, why
):
    response = _reply(staff_client, conversation, body, django_capture_on_commit_callbacks)

    assert why in response.content.decode()
    assert locmem.outbox == []
    with unscoped():
        assert not Message.objects.filter(role=Message.Role.STAFF).exists()
    assert _reload(conversation).lexi_paused_until is None


def test_an_opted_out_patient_is_shown_and_a_reply_is_refused(
    clinic, staff_client, conversation, django_capture_on_commit_callbacks
):
    with tenant_scope(clinic):
        SmsOptOut.objects.create(organization=clinic, phone=PATIENT, keyword="STOP")

    page = staff_client.get(_url(conversation, "change")).content.decode()
    response = _reply(staff_client, conversation, "Hello?", django_capture_on_commit_callbacks)

    assert "has opted out of texts" in page
    assert "opted out of texts (replied STOP); nothing was sent" in response.content.decode()
    assert locmem.outbox == []


def test_pause_and_hand_back_from_the_page(staff_client, conversation):
    staff_client.post(_url(conversation, "pause"))
    assert _reload(conversation).lexi_paused_until is not None

    response = staff_client.post(_url(conversation, "hand_back"), follow=True)

    after = _reload(conversation)
    assert after.lexi_paused_until is None
    assert after.needs_attention is False
    assert "Pause Lexi" in response.content.decode()
    assert _history(conversation) == [
        ("front-desk", "Paused Lexi"),
        ("front-desk", "Handed back to Lexi"),
    ]


def test_assign_to_me_and_the_assigned_filter(staff, staff_client, clinic, conversation):
    other = ConversationFactory.create(organization=clinic, patient_name="Other Otto")
    staff_client.post(_url(conversation, "assign"), {"to": "me"})

    mine = staff_client.get(
        reverse("admin:conversations_conversation_changelist") + "?assigned=me"
    ).content.decode()

    assert _reload(conversation).assigned_to == staff
    assert "Ana Lopez" in mine
    assert "Other Otto" not in mine
    assert _reload(other).assigned_to is None


def test_changelist_actions_assign_and_mark_read(staff, staff_client, conversation):
    changelist = reverse("admin:conversations_conversation_changelist")
    for action in ("assign_to_me", "mark_read"):
        staff_client.post(changelist, {"action": action, "_selected_action": [conversation.pk]})

    assert _reload(conversation).assigned_to == staff
    with unscoped():
        assert ConversationRead.objects.filter(user=staff, conversation=conversation).exists()
    assert ("front-desk", "Assigned to front-desk") in _history(conversation)


def test_opening_a_conversation_marks_it_read_until_a_new_text(staff_client, clinic, conversation):
    index = reverse("admin:index")
    assert UNREAD in staff_client.get(index).content.decode()

    staff_client.get(_url(conversation, "change"))
    assert UNREAD not in staff_client.get(index).content.decode()

    with tenant_scope(clinic):
        message_log(conversation=conversation, role="user", content="hello?")
    assert UNREAD in staff_client.get(index).content.decode()


def test_mark_unread_brings_the_marker_back(staff_client, conversation):
    staff_client.get(_url(conversation, "change"))

    staff_client.post(_url(conversation, "read"), {"read": "0"})

    assert UNREAD in staff_client.get(reverse("admin:index")).content.decode()


def test_quick_replies_of_the_clinic_are_offered(staff_client, clinic, conversation):
    other = OrganizationFactory.create()
    with tenant_scope(clinic):
        QuickReply.objects.create(
            organization=clinic, title="Running late", body="We run 10 min late."
        )
    with tenant_scope(other):
        QuickReply.objects.create(organization=other, title="Elsewhere", body="Not ours.")

    body = staff_client.get(_url(conversation, "change")).content.decode()

    assert 'data-body="We run 10 min late."' in body
    assert "Elsewhere" not in body


def test_the_reply_form_posts_the_body_with_csrf_to_the_reply_url(conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user(conversation.organization, "careful"))

    body = client.get(_url(conversation, "change")).content.decode()

    assert f'action="{_url(conversation, "reply")}"' in body
    assert '<textarea name="body" form="lexi-reply"' in body
    assert "csrfmiddlewaretoken" in body
    assert client.post(_url(conversation, "reply"), {"body": "no token"}).status_code == 403
    assert locmem.outbox == []


def test_a_get_does_not_reply(staff_client, conversation):
    assert staff_client.get(_url(conversation, "reply") + "?body=hi").status_code == 403
    assert locmem.outbox == []


def test_a_superuser_replies_from_the_conversations_own_clinic_number(
    admin_client, conversation, django_capture_on_commit_callbacks
):
    other = OrganizationFactory.create()
    ConversationFactory.create(organization=other, to_number="+18505550999")

    _reply(admin_client, conversation, "From the platform", django_capture_on_commit_callbacks)

    [sent] = locmem.outbox
    assert (sent.from_number, sent.to_number) == (CLINIC_NUMBER, PATIENT)
    with unscoped():
        reply = Message.objects.get(role=Message.Role.STAFF)
    assert reply.organization_id == conversation.organization_id


def test_a_text_left_to_staff_says_so_in_the_transcript(staff_client, clinic, conversation):
    with tenant_scope(clinic):
        message_log(conversation=conversation, role="user", content="hello?", outcome="paused")

    body = staff_client.get(_url(conversation, "change")).content.decode()

    assert "Not answered by Lexi: staff are handling this conversation" in body


def test_a_user_of_two_clinics_sees_which_clinic_each_inbox_row_is(staff, conversation):
    second = OrganizationFactory.create(name="Second Smile")
    MembershipFactory.create(organization=second, user=staff)
    ConversationFactory.create(organization=second, patient_name="Sam Second", needs_attention=True)
    client = Client()
    client.force_login(staff)

    body = client.get(reverse("admin:index")).content.decode()

    assert "Sam Second" in body
    assert "Second Smile" in body
    assert "Barton Dental" in body


def test_resolving_from_the_changelist_is_in_the_history(staff_client, conversation):
    changelist = reverse("admin:conversations_conversation_changelist")
    for action in ("clear_needs_attention", "mark_resolved"):
        staff_client.post(changelist, {"action": action, "_selected_action": [conversation.pk]})

    assert _history(conversation) == [
        ("front-desk", "Cleared needs-attention"),
        ("front-desk", "Resolved"),
    ]
    assert _reload(conversation).waiting_since is None


def test_staff_who_may_not_read_conversations_get_no_inbox(clinic, conversation):
    user = UserFactory.create(username="bookings-only", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="booking"))
    MembershipFactory.create(organization=clinic, user=user)
    client = Client()
    client.force_login(user)

    body = client.get(reverse("admin:index")).content.decode()

    assert "Needs attention" not in body
    assert "Ana Lopez" not in body


def test_a_reply_to_a_completed_conversation_reopens_it_for_the_patients_answer(
    clinic, staff_client, conversation, django_capture_on_commit_callbacks
):
    with tenant_scope(clinic):
        conversation_complete(conversation=conversation)

    _reply(staff_client, conversation, "Sorry we missed you!", django_capture_on_commit_callbacks)

    assert [sent.body for sent in locmem.outbox] == ["Sorry we missed you!"]
    with tenant_scope(clinic):
        answered_in, created = conversation_open(
            organization=clinic,
            session_id=conversation.session_id,
            channel="sms",
            from_number=PATIENT,
            to_number=CLINIC_NUMBER,
        )
    assert (answered_in.pk, created) == (conversation.pk, False)
    assert answered_in.end_timestamp is None
    assert lexi_paused(conversation=answered_in)


def test_a_reply_to_an_old_conversation_is_refused_while_a_newer_one_is_ongoing(
    clinic, staff_client, conversation, django_capture_on_commit_callbacks
):
    with tenant_scope(clinic):
        conversation_complete(conversation=conversation)
        newer, _ = conversation_open(
            organization=clinic,
            session_id=conversation.session_id,
            channel="sms",
            from_number=PATIENT,
            to_number=CLINIC_NUMBER,
        )

    response = _reply(staff_client, conversation, "Hello?", django_capture_on_commit_callbacks)

    assert "has a newer conversation" in response.content.decode()
    assert locmem.outbox == []
    assert _reload(conversation).call_status == Conversation.Status.COMPLETED
    assert _reload(newer).call_status == Conversation.Status.ONGOING
    with unscoped():
        assert not Message.objects.filter(role=Message.Role.STAFF).exists()
