"""Concurrent webhooks on PostgreSQL: the database constraints decide, never check-then-act."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conversations.models import Conversation, Message
from tenants.scoping import tenant_scope
from tests.twilio_helpers import post_in_thread, reply_texts, twilio_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _concurrently(payloads: list[dict[str, Any]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(post_in_thread, payloads))


def test_twenty_concurrent_first_texts_from_one_sender_open_one_conversation(clinic_a, settings):
    settings.LEXI_SENDER_LIMIT_PER_MINUTE = 100
    payloads = [twilio_payload(Body=f"Hello {n}") for n in range(20)]

    responses = _concurrently(payloads)

    assert [r.status_code for r in responses] == [200] * 20
    with tenant_scope(clinic_a):
        [conversation] = Conversation.objects.all()
        assert conversation.call_status == "ongoing"
        assert Message.objects.filter(role="user").count() == 20
        assert Message.objects.filter(role="assistant").count() == 20
        conversation.refresh_from_db()
        assert conversation.message_count == 40


def test_concurrent_retries_of_one_message_store_it_once_and_all_get_the_same_reply(clinic_a):
    params = twilio_payload()

    responses = _concurrently([params] * 6)

    assert [r.status_code for r in responses] == [200] * 6
    replies = {tuple(reply_texts(r)) for r in responses}
    assert len(replies) == 1
    assert next(iter(replies))  # a reply, not silence
    with tenant_scope(clinic_a):
        assert Message.objects.filter(role="user").count() == 1
        assert Message.objects.filter(role="assistant").count() == 1
