"""Concurrent storms on PostgreSQL: nothing lost, nothing doubled, nothing crosses tenants.

Real threads, each with its own test client and database connection, as the application role
that row-level security binds (CI sets TEST_DATABASE_APP_ROLE).
"""

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conversations.models import Conversation, Message
from tenants.scoping import tenant_scope
from tests.reliability.conftest import BARTON_NUMBER, HARBOR_NUMBER, PATIENT, demo_load
from tests.reliability.webhook import assert_polite_twiml
from tests.twilio_helpers import post_in_thread, reply_texts, twilio_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 12  # two cores: enough to interleave every step, few enough to stay quick


def _storm(payloads: list[dict[str, Any]], figures: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        responses = list(pool.map(post_in_thread, payloads))
    figures.add("requests", len(payloads))
    figures.add("server_errors", sum(r.status_code >= 500 for r in responses))
    return responses


def test_fifty_concurrent_texts_from_one_sender_make_one_conversation_with_every_message(
    figures,
):
    organizations = demo_load()
    barton = organizations[BARTON_NUMBER]
    payloads = [
        twilio_payload(Body=f"what are your hours? (question {n})", To=BARTON_NUMBER)
        for n in range(50)
    ]

    responses = _storm(payloads, figures)

    for response in responses:
        assert reply_texts(response) == assert_polite_twiml(response)
        assert len(reply_texts(response)) == 1
    with tenant_scope(barton):
        [conversation] = Conversation.objects.all()
        inbound = Message.objects.filter(role=Message.Role.USER)
        stored = set(inbound.values_list("content", flat=True))
        replies = Message.objects.filter(role=Message.Role.ASSISTANT)
        assert conversation.from_number == PATIENT
        assert inbound.count() == 50
        assert replies.count() == 50
        # Each reply answers exactly one inbound message.
        answered = Counter(m.in_reply_to_id for m in replies)
        assert set(answered) == set(inbound.values_list("pk", flat=True))
        assert set(answered.values()) == {1}
        assert conversation.message_count == 100
    lost = 50 - len(stored & {p["Body"] for p in payloads})
    figures.add("stored", 50 - lost)
    figures.add("lost", lost)
    assert lost == 0


def test_two_hundred_texts_from_twenty_senders_to_both_clinics_stay_with_their_clinic(figures):
    organizations = demo_load()
    senders = [f"+1619555{n:04d}" for n in range(20)]
    payloads = [
        twilio_payload(
            From=sender, To=clinic, Body=f"what are your hours? (from {sender} to {clinic} #{n})"
        )
        for sender in senders
        for clinic in (BARTON_NUMBER, HARBOR_NUMBER)
        for n in range(5)
    ]
    random.Random(9).shuffle(payloads)

    responses = _storm(payloads, figures)

    assert [r.status_code for r in responses] == [200] * 200
    leaks = 0
    stored = 0
    names = {number: org.name for number, org in organizations.items()}
    for number, organization in organizations.items():
        other_name = next(name for n, name in names.items() if n != number)
        with tenant_scope(organization):
            conversations = list(Conversation.objects.all())
            inbound = list(Message.objects.filter(role=Message.Role.USER))
            replies = list(Message.objects.filter(role=Message.Role.ASSISTANT))
        assert {c.from_number for c in conversations} == set(senders)
        assert len(conversations) == 20  # one per sender and clinic
        leaks += sum(c.to_number != number for c in conversations)
        leaks += sum(f" to {number} " not in m.content for m in inbound)
        leaks += sum(other_name in m.content for m in replies)
        stored += len(inbound)
        assert len(replies) == len(inbound)
    # The same replies reached the senders: each clinic's greeting names that clinic only.
    for payload, response in zip(payloads, responses, strict=True):
        other = HARBOR_NUMBER if payload["To"] == BARTON_NUMBER else BARTON_NUMBER
        leaks += sum(names[other] in text for text in reply_texts(response))
    figures.add("stored", stored)
    figures.add("lost", 200 - stored)
    figures.add("leaks", leaks)
    assert stored == 200
    assert leaks == 0


def test_the_same_message_sid_ten_times_at_once_is_processed_once(figures):
    organizations = demo_load()
    params = twilio_payload(To=HARBOR_NUMBER, Body="Can I book a cleaning?")

    responses = _storm([params] * 10, figures)

    assert [r.status_code for r in responses] == [200] * 10
    answers = {tuple(reply_texts(r)) for r in responses}
    assert len(answers) == 1
    assert next(iter(answers))  # every retry got the one reply, not silence
    with tenant_scope(organizations[HARBOR_NUMBER]):
        assert Message.objects.filter(role=Message.Role.USER).count() == 1
        assert Message.objects.filter(role=Message.Role.ASSISTANT).count() == 1
        assert Conversation.objects.count() == 1
    with tenant_scope(organizations[BARTON_NUMBER]):
        assert Message.objects.count() == 0
    figures.add("stored")
