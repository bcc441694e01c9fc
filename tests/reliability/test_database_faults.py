"""The database failing in the middle of a turn: a 503 for Twilio to retry, never half an answer.

In-process counterpart of test_database_restart.py: the failure is injected at a chosen
statement, so the interrupted path runs on every CI run, not only when the timing hits it.
"""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connection
from django.utils import timezone

from conversations.models import Conversation, Message
from tenants.scoping import tenant_scope
from tests.reliability.webhook import assert_no_leak, assert_polite_twiml
from tests.twilio_helpers import signed_post, twilio_payload

# Real transactions: a failed statement must poison only the request's own work, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def _replies_fail(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """The connection drops once the patient's message is in: every later write fails."""
    writes = (
        sql.lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))
    )  # WITH: one-statement store
    if writes and params and "assistant" in params:
        raise OperationalError("server closed the connection unexpectedly")
    if sql.lstrip().upper().startswith("UPDATE") and "needs_attention" in sql:
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)


def test_database_failing_after_the_message_is_stored_answers_503_not_an_unstored_reply(
    client, clinic, figures
):
    params = twilio_payload(Body="Can I come in on Friday?")

    with connection.execute_wrapper(_replies_fail):
        response = signed_post(client, params)
    figures.add("requests")
    figures.add("faults")

    assert_no_leak(response)
    assert response.status_code == 503
    assert b"<Message>" not in response.content
    with tenant_scope(clinic):
        [inbound] = Message.objects.all()  # the patient's text is kept, unanswered
        assert inbound.content == "Can I come in on Friday?"
        assert inbound.outcome == ""
    figures.add("stored")


def test_the_retry_of_an_interrupted_text_is_answered_once_and_the_same_to_every_retry(
    client, clinic, figures
):
    params = twilio_payload(Body="Can I come in on Friday?")
    with connection.execute_wrapper(_replies_fail):
        assert signed_post(client, params).status_code == 503

    retries = [signed_post(client, params) for _ in range(3)]
    figures.add("requests", 4)
    figures.add("faults")

    answers = [assert_polite_twiml(r) for r in retries]
    assert answers[0]
    assert all(a == answers[0] for a in answers)
    with tenant_scope(clinic):
        inbound = Message.objects.get(role=Message.Role.USER)
        [reply] = Message.objects.filter(role=Message.Role.ASSISTANT)
        conversation = Conversation.objects.get()
    # The first answer died with the database and left nothing: the retry gets Lexi's answer.
    assert inbound.outcome == "answered"
    assert reply.content == answers[0][0]
    assert reply.in_reply_to_id == inbound.pk
    assert conversation.message_count == 2
    figures.add("stored")


def test_a_retry_while_the_database_still_fails_is_another_503_and_stores_nothing_more(
    client, clinic, settings, figures
):
    settings.LEXI_TURN_DEADLINE_SECONDS = 0  # the retry takes over at once
    params = twilio_payload(Body="Hello")

    with connection.execute_wrapper(_replies_fail):
        first = signed_post(client, params)
        later = timezone.now() + timedelta(seconds=5)
        with time_machine.travel(later, tick=True):
            retry = signed_post(client, params)
    figures.add("requests", 2)
    figures.add("faults")

    for response in (first, retry):
        assert_no_leak(response)
        assert response.status_code == 503
    with tenant_scope(clinic):
        [inbound] = Message.objects.all()
        assert inbound.outcome == ""
    figures.add("stored")
