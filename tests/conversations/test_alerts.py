"""Alert emails when a conversation needs staff: opted-in members only, at most one per
conversation per 15 minutes (decided by the database), never the patient's words."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from conversations.alerts import attention_alert_send
from conversations.attention import conversation_waiting_mark
from conversations.models import Conversation
from conversations.services import conversation_flag, conversation_resolve, message_log
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET_WORDS = "my tooth fell out at the bar"


def _member(organization: Organization, email: str, *, alerts: bool) -> Any:
    user = UserFactory.create(email=email)
    MembershipFactory.create(organization=organization, user=user, attention_alerts=alerts)
    return user


@pytest.fixture
def conversation(org_a: Organization) -> Conversation:
    conversation = ConversationFactory.create(organization=org_a, patient_name="Ana Lopez")
    with tenant_scope(org_a):
        message_log(conversation=conversation, role="user", content=SECRET_WORDS)
    return conversation


def _flag(conversation: Conversation, capture: Any, reason: str = "Patient asked for a person"):
    with tenant_scope(conversation.organization), capture(execute=True):
        conversation_flag(conversation=conversation, reason=reason)


def test_flagging_emails_the_members_who_opted_in_with_a_link_and_no_message_text(
    org_a, conversation, django_capture_on_commit_callbacks
):
    _member(org_a, "ana@clinic.example", alerts=True)
    _member(org_a, "bo@clinic.example", alerts=False)

    _flag(conversation, django_capture_on_commit_callbacks)

    [email] = mail.outbox
    assert email.to == ["ana@clinic.example"]
    assert "Alpha Dental" in email.subject
    assert "Patient asked for a person" in email.body
    assert f"/admin/conversations/conversation/{conversation.pk}/change/" in email.body
    everything = f"{email.subject}\n{email.body}"
    assert SECRET_WORDS not in everything
    assert conversation.from_number not in everything


def test_each_member_gets_their_own_email(org_a, conversation, django_capture_on_commit_callbacks):
    _member(org_a, "ana@clinic.example", alerts=True)
    _member(org_a, "bo@clinic.example", alerts=True)

    _flag(conversation, django_capture_on_commit_callbacks)

    assert sorted(tuple(e.to) for e in mail.outbox) == [
        ("ana@clinic.example",),
        ("bo@clinic.example",),
    ]


def test_another_clinics_members_are_never_emailed(
    org_a, org_b, conversation, django_capture_on_commit_callbacks
):
    _member(org_b, "other@clinic.example", alerts=True)

    _flag(conversation, django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_at_most_one_email_per_conversation_per_15_minutes(
    org_a, conversation, django_capture_on_commit_callbacks, time_machine
):
    _member(org_a, "ana@clinic.example", alerts=True)
    _flag(conversation, django_capture_on_commit_callbacks)
    with tenant_scope(org_a):
        conversation_resolve(conversation=conversation)
    _flag(conversation, django_capture_on_commit_callbacks, reason="Again")
    assert len(mail.outbox) == 1

    time_machine.move_to(timezone.now() + timedelta(minutes=16))
    with tenant_scope(org_a):
        conversation_resolve(conversation=conversation)
    _flag(conversation, django_capture_on_commit_callbacks, reason="Later")

    assert len(mail.outbox) == 2


def test_running_the_alert_twice_sends_once(org_a, conversation):
    _member(org_a, "ana@clinic.example", alerts=True)
    with tenant_scope(org_a):
        first = attention_alert_send(organization=org_a, conversation_id=conversation.pk)
        second = attention_alert_send(organization=org_a, conversation_id=conversation.pk)

    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1


def test_a_flag_on_an_already_flagged_conversation_sends_no_new_email(
    org_a, conversation, django_capture_on_commit_callbacks, time_machine
):
    _member(org_a, "ana@clinic.example", alerts=True)
    _flag(conversation, django_capture_on_commit_callbacks)
    time_machine.move_to(timezone.now() + timedelta(hours=1))

    _flag(conversation, django_capture_on_commit_callbacks, reason="A text failed")

    assert len(mail.outbox) == 1
    with tenant_scope(org_a):
        conversation.refresh_from_db()
    assert conversation.attention_reason == "A text failed"


def test_a_patient_starting_to_wait_on_staff_alerts_once(
    org_a, conversation, django_capture_on_commit_callbacks
):
    _member(org_a, "ana@clinic.example", alerts=True)
    now = timezone.now()
    with tenant_scope(org_a), django_capture_on_commit_callbacks(execute=True):
        started = conversation_waiting_mark(conversation=conversation, since=now)
        again = conversation_waiting_mark(conversation=conversation, since=now)

    assert (started, again) == (True, False)
    [email] = mail.outbox
    assert "texted while staff" in email.body


def test_a_failed_send_gives_the_claim_back(org_a, conversation, settings):
    _member(org_a, "ana@clinic.example", alerts=True)
    settings.MAILERS = {"default": {"BACKEND": "tests.conversations.test_alerts.BrokenMailer"}}

    with tenant_scope(org_a), pytest.raises(ConnectionRefusedError):
        attention_alert_send(organization=org_a, conversation_id=conversation.pk)

    with tenant_scope(org_a):
        conversation.refresh_from_db()
    assert conversation.alerted_at is None


class BrokenMailer:
    """An SMTP server that is down."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("smtp down")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_alerts_for_one_conversation_send_one_email(org_a):
    """Eight workers run the alert at once: the UPDATE that claims the interval lets one win."""
    _member(org_a, "ana@clinic.example", alerts=True)
    conversation = ConversationFactory.create(organization=org_a)
    start = threading.Barrier(8)

    def alert(_: int) -> int:
        try:
            start.wait()
            with tenant_scope(org_a):
                return attention_alert_send(organization=org_a, conversation_id=conversation.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = list(pool.map(alert, range(8)))

    assert sorted(sent) == [0] * 7 + [1]
    assert len(mail.outbox) == 1
