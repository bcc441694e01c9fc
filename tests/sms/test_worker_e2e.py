"""End to end with real workers: the webhook (a live server) stores and acknowledges, a worker
process answers and sends through the real twilio SDK to a local Twilio. Once on django-tasks-db
(the default) and once on RQ with Redis (the scale-out backend)."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
from django.core.management import call_command

from conversations.models import Conversation, Message
from tenants.scoping import tenant_scope
from tests.lexi.openai_server import Respond, text_completion
from tests.sms.conftest import CLINIC_A_NUMBER
from tests.sms.worker_stack import REDIS_TEST_URL, Worker, wait_for, worker_env
from tests.twilio_helpers import (
    TEST_HOST,
    http_signed_post,
    twilio_payload,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BACKENDS = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
}
TIMEOUT = 60.0  # generous: CI machines are shared; a pass takes a few seconds


@pytest.fixture(params=["database", "rq"])
def backend(request: pytest.FixtureRequest, settings: Any) -> str:
    name = str(request.param)
    if name == "rq":
        _require_redis()
        settings.RQ_QUEUES = {"default": {"URL": REDIS_TEST_URL, "DEFAULT_TIMEOUT": 300}}
    settings.TASKS = {"default": BACKENDS[name]}
    return name


def _require_redis() -> None:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but no Redis answers at 127.0.0.1:6379")
        pytest.skip("needs Redis at 127.0.0.1:6379 (.ci/run starts one)")
    client.flushdb()


@pytest.fixture
def queued(settings: Any, twilio_server: Any) -> None:
    settings.LEXI_REPLY_MODE = "queued"
    settings.LEXI_REPLY_DEBOUNCE_SECONDS = 0.5
    settings.LEXI_SEND_RETRY_WINDOW_SECONDS = 5.0
    settings.LEXI_TURN_LEASE_SECONDS = 20.0


@pytest.fixture
def workers(backend: str) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def _start(workers: list[Worker], backend: str, count: int = 1) -> None:
    env = worker_env()
    workers.extend(Worker(backend, env) for _ in range(count))


def _post(server_url: str, params: dict[str, str], http: httpx.Client) -> httpx.Response:
    # The webhook verifies against PUBLIC_BASE_URL (the twilio_server fixture sets it).
    return http_signed_post(http, server_url, params, signed_base=TEST_HOST)


def _messages(clinic: Any) -> list[Message]:
    with tenant_scope(clinic):
        return list(Message.objects.order_by("id"))


def test_a_text_is_acknowledged_at_once_then_answered_by_the_worker_over_rest(
    clinic_a, queued, twilio_server, live_server, backend, workers
):
    _start(workers, backend)
    with httpx.Client(timeout=10) as http:
        response = _post(live_server.url, twilio_payload(Body="Hi there"), http)

    assert response.status_code == 200
    assert "<Message>" not in response.text
    [sent] = wait_for(
        lambda: twilio_server.sent, timeout=TIMEOUT, what="the reply", workers=workers
    )
    # The worker stores Twilio's SID just after Twilio answered: wait for that, not the send.
    inbound, reply = wait_for(
        lambda: (ms := _messages(clinic_a))[-1].provider_message_id and ms,
        timeout=TIMEOUT,
        what="the stored SID",
        workers=workers,
    )
    assert inbound.outcome == "answered"
    assert (sent["From"], sent["Body"]) == (CLINIC_A_NUMBER, reply.content)
    assert "Welcome to Alpha Dental" in reply.content
    assert reply.provider_message_id == sent["Sid"]
    assert reply.delivery_status == "sending"


def test_a_burst_of_three_texts_gets_one_model_request_and_one_reply(
    clinic_a, queued, twilio_server, openai_server, live_server, backend, workers, settings
):
    settings.LEXI_REPLY_DEBOUNCE_SECONDS = 1.0
    openai_server.always(text_completion("Tomorrow morning we have 9:00 or 10:30."))
    _start(workers, backend)
    with httpx.Client(timeout=10) as http:
        for body in ("hi", "i need a cleaning", "tmrw morning?"):
            assert _post(live_server.url, twilio_payload(Body=body), http).status_code == 200

    wait_for(lambda: twilio_server.sent, timeout=TIMEOUT, what="the reply", workers=workers)
    wait_for(
        lambda: all(m.outcome == "answered" for m in _messages(clinic_a) if m.role == "user"),
        timeout=TIMEOUT,
        what="all three answered",
        workers=workers,
    )
    assert len(openai_server.requests) == 1
    assert len(twilio_server.sent) == 1


def test_200_texts_from_20_senders_are_all_stored_and_each_burst_answered_once_in_order(
    clinic_a, queued, twilio_server, live_server, backend, workers, settings
):
    settings.LEXI_REPLY_DEBOUNCE_SECONDS = 0.3
    _start(workers, backend, count=2)
    senders = [f"+1619555{n:04d}" for n in range(20)]

    def text_ten_times(phone: str) -> None:
        with httpx.Client(timeout=20) as http:
            for n in range(10):
                body = f"what are your hours? (text {n} from {phone})"
                params = twilio_payload(From=phone, Body=body)
                assert _post(live_server.url, params, http).status_code == 200

    threads = [threading.Thread(target=text_ten_times, args=(phone,)) for phone in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    def all_answered() -> bool:
        with tenant_scope(clinic_a):
            return not Message.objects.filter(role="user").exclude(outcome="answered").exists()

    wait_for(all_answered, timeout=180, what="every text answered", workers=workers)
    wait_for(
        lambda: len(twilio_server.sent) == _reply_count(clinic_a),
        timeout=TIMEOUT,
        what="every reply sent",
        workers=workers,
    )
    with tenant_scope(clinic_a):
        inbound = Message.objects.filter(role="user")
        replies = list(Message.objects.filter(role="assistant").order_by("id"))
        assert inbound.count() == 200
        assert Conversation.objects.count() == 20
        # Each reply answers the texts of its burst: every text is covered by exactly one.
        assert sum(r.metadata.get("burst", 1) for r in replies) == 200
    sids = [s["Sid"] for s in twilio_server.sent]
    assert len(sids) == len(set(sids)) == len(replies)
    per_phone_sent: dict[str, list[str]] = defaultdict(list)
    for sent in twilio_server.sent:
        per_phone_sent[sent["To"]].append(sent["Body"])
    per_phone_stored: dict[str, list[str]] = defaultdict(list)
    with tenant_scope(clinic_a):
        for reply in replies:
            per_phone_stored[reply.conversation.from_number].append(reply.content)
    assert per_phone_sent == per_phone_stored  # in order, per conversation


def _sent(twilio_server: Any, workers: list[Worker]) -> list[dict[str, str]]:
    return wait_for(lambda: twilio_server.sent, timeout=TIMEOUT, what="a reply", workers=workers)


def _reply_count(clinic: Any) -> int:
    with tenant_scope(clinic):
        return Message.objects.filter(role="assistant").count()


def test_a_worker_killed_mid_turn_loses_nothing_the_text_is_answered_once(
    clinic_a, queued, twilio_server, openai_server, live_server, workers, settings
):
    settings.TASKS = {"default": BACKENDS["database"]}
    settings.LEXI_TURN_LEASE_SECONDS = 2.0
    # The first model request hangs (the worker is killed while it waits); later ones answer.
    openai_server.push(Respond(status=200, body=text_completion("too late"), delay=30))
    openai_server.always(text_completion("Sorry for the wait! How can I help?"))
    _start(workers, "database")
    with httpx.Client(timeout=10) as http:
        _post(live_server.url, twilio_payload(Body="Can I book a cleaning?"), http)
    wait_for(lambda: openai_server.requests, timeout=TIMEOUT, what="the turn", workers=workers)

    workers[0].kill()
    _start(workers, "database")
    time.sleep(settings.LEXI_TURN_LEASE_SECONDS + 0.5)
    call_command("lexi_clock", "--once")  # the periodic sweep finds the orphaned text

    [sent] = wait_for(
        lambda: twilio_server.sent, timeout=TIMEOUT, what="the reply", workers=workers
    )
    inbound, reply = _messages(clinic_a)
    assert inbound.outcome == "answered"
    assert sent["Body"] == reply.content
    assert len(twilio_server.sent) == 1
