from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.selectors import message_for_provider_id, message_reply, messages_count_since
from conversations.services import (
    conversation_complete,
    conversation_open,
    message_log,
)
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

SESSION = "sms_16195551234_18504036622"


def _open(organization, **kwargs):
    return conversation_open(
        organization=organization,
        session_id=SESSION,
        channel="sms",
        from_number="+16195551234",
        to_number="+18504036622",
        metadata={"channel": "twilio_sms"},
        **kwargs,
    )


def test_conversation_open_creates_then_returns_the_same_ongoing_conversation(org_a):
    with tenant_scope(org_a):
        first, created = _open(org_a)
        again, created_again = _open(org_a)

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert first.call_status == "ongoing"
    assert first.direction == "inbound"
    assert first.metadata == {"channel": "twilio_sms"}


def test_conversation_open_is_per_organization(org_a, org_b):
    with tenant_scope(org_a):
        in_a, _ = _open(org_a)
    with tenant_scope(org_b):
        in_b, created = _open(org_b)

    assert created is True
    assert in_a.pk != in_b.pk
    assert in_b.organization_id == org_b.pk


def test_conversation_open_completes_a_quiet_conversation_and_opens_a_new_one(org_a):
    with tenant_scope(org_a):
        old, _ = _open(org_a)
        Conversation.objects.filter(pk=old.pk).update(
            last_message_at=timezone.now() - timedelta(hours=30)
        )
        new, created = _open(org_a, quiet_after=timedelta(hours=24))
        old.refresh_from_db()

    assert created is True
    assert new.pk != old.pk
    assert old.call_status == "completed"
    assert old.end_timestamp is not None


def test_conversation_open_keeps_a_recent_conversation(org_a):
    with tenant_scope(org_a):
        old, _ = _open(org_a)
        message_log(conversation=old, role="user", content="hi")
        same, created = _open(org_a, quiet_after=timedelta(hours=24))

    assert created is False
    assert same.pk == old.pk


def test_conversation_complete_leaves_a_completed_one_alone(org_a):
    conversation = ConversationFactory.create(organization=org_a, call_status="completed")
    ended = timezone.now() - timedelta(days=2)
    with tenant_scope(org_a):
        Conversation.objects.filter(pk=conversation.pk).update(end_timestamp=ended)
        conversation_complete(conversation=conversation)
        conversation.refresh_from_db()

    assert conversation.end_timestamp == ended


def test_message_log_merges_conversation_metadata_keeping_other_keys(org_a):
    conversation = ConversationFactory.create(
        organization=org_a, metadata={"channel": "twilio_sms", "last_message_sid": "SM0"}
    )
    with tenant_scope(org_a):
        message_log(
            conversation=conversation,
            role="user",
            content="hi",
            conversation_metadata={"last_message_sid": "SM1"},
        )
        conversation.refresh_from_db()

    assert conversation.metadata == {"channel": "twilio_sms", "last_message_sid": "SM1"}
    assert conversation.message_count == 1


def test_message_for_provider_id_never_finds_another_organizations_message(org_a, org_b):
    mine = MessageFactory.create(conversation=ConversationFactory.create(organization=org_a))
    with tenant_scope(org_a):
        Message.objects.filter(pk=mine.pk).update(provider_message_id="SM1")
        found = message_for_provider_id(organization=org_a, provider_message_id="SM1")
    with tenant_scope(org_b):
        not_found = message_for_provider_id(organization=org_b, provider_message_id="SM1")

    assert found is not None
    assert found.pk == mine.pk
    assert not_found is None


def test_message_reply_is_the_assistant_message_linked_to_it(org_a):
    conversation = ConversationFactory.create(organization=org_a)
    with tenant_scope(org_a):
        inbound = message_log(conversation=conversation, role="user", content="hi")
        message_log(conversation=conversation, role="assistant", content="unrelated")
        reply = message_log(
            conversation=conversation,
            role="assistant",
            content="hello",
            in_reply_to=inbound,
        )
        found = message_reply(message=inbound)

    assert found is not None
    assert found.pk == reply.pk


def test_messages_count_since_counts_only_recent_messages_of_the_role_and_kind(org_a):
    conversation = ConversationFactory.create(organization=org_a)
    with tenant_scope(org_a):
        old = message_log(conversation=conversation, role="user", content="old")
        Message.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(minutes=5))
        message_log(conversation=conversation, role="user", content="new")
        message_log(conversation=conversation, role="assistant", content="x", outcome="slowed")
        since = timezone.now() - timedelta(seconds=60)
        users = messages_count_since(conversation=conversation, role="user", since=since)
        slowed = messages_count_since(
            conversation=conversation, role="assistant", since=since, outcome="slowed"
        )
        other = messages_count_since(
            conversation=conversation, role="assistant", since=since, outcome="help"
        )

    assert (users, slowed, other) == (1, 1, 0)
