"""Section 6: the outbound path — queued replies, the task worker, REST sends.

- Acknowledgement: gunicorn in the queued reply mode answers the webhook (store the text,
  enqueue the turn, empty <Response/>) beside the bare view, at 8 clients, no worker running.
- Text in → REST send out: a signed text to gunicorn, one `db_worker`, the reply sent through
  the real twilio SDK to a local server speaking Twilio's REST API; time until it arrives there.
- Worker throughput: texts from many patients queued at once, answered and sent by 1 and by 2
  workers.
- A burst: three texts within a second from one patient, with the model engine against a
  scripted OpenAI-compatible server: how many model requests and how many texts went out.

Everything runs on loopback as lexi_app under row-level security, like section 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import env
from bench.webhook import BARE_PATH, WEBHOOK_PATH, gunicorn, load, signed_bodies
from tests.lexi.openai_server import ScriptedOpenAI, text_completion
from tests.sms.twilio_server import FakeTwilio

TASKS_TABLE = "django_tasks_database_dbtaskresult"
LATENCY_TEXTS = 8
LATENCY_GAP_SECONDS = 0.4
THROUGHPUT_TEXTS = 150
BURST = ("hi", "i need a cleaning", "tmrw morning?")


class TimedTwilio(FakeTwilio):
    """The local Twilio, noting when each text arrived (perf_counter) by recipient."""

    def __init__(self) -> None:
        super().__init__(account_sid=env.TWILIO_ACCOUNT_SID, auth_token=env.TWILIO_TOKEN)
        self.arrived: dict[str, list[float]] = {}

    def _accept(self, form: dict[str, str]) -> dict[str, Any]:
        self.arrived.setdefault(form.get("To", ""), []).append(time.perf_counter())
        return super()._accept(form)


@contextmanager
def db_workers(db: str, count: int, **settings: str) -> Iterator[None]:
    """`count` django-tasks-db workers on the bench database, stopped on the way out."""
    log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
    processes = [
        subprocess.Popen(  # noqa: S603 -- our own manage.py, fixed arguments
            [env.PYTHON, "manage.py", "db_worker", "--interval", "0.05", "--no-reload"],
            cwd=env.ROOT,
            env=env.django_env(db, **settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if os.environ.get("BENCH_KEEP_LOG"):
            print(f"worker log: {log.name}")
        else:
            Path(log.name).unlink(missing_ok=True)


def tasks_clear(db: str) -> None:
    """Drop queued tasks a section left behind, so the next one starts with an empty queue."""
    env.psql(f"DELETE FROM {TASKS_TABLE}", db=db, role=env.OWNER_ROLE)  # noqa: S608 -- a constant


def sending_settings(twilio: FakeTwilio, base: str, **extra: str) -> dict[str, str]:
    return {
        "LEXI_REPLY_MODE": "queued",
        "LEXI_SMS_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": twilio.base_url,
        "PUBLIC_BASE_URL": base,
        **extra,
    }


def text_post(http: httpx.Client, base: str, *, sender: str, body: str, clinic: int = 0) -> None:
    """One signed inbound text, as Twilio posts it (verified against PUBLIC_BASE_URL = base)."""
    from twilio.request_validator import RequestValidator

    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": env.TWILIO_ACCOUNT_SID,
        "From": sender,
        "To": env.DEMO_NUMBERS[clinic],
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(env.TWILIO_TOKEN).compute_signature(base + WEBHOOK_PATH, params)
    response = http.post(
        base + WEBHOOK_PATH,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    response.raise_for_status()


def wait_until(check: Any, *, timeout: float) -> bool:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if check():
            return True
        time.sleep(0.01)
    return False


def sender_numbers(prefix: int, count: int) -> list[str]:
    return [f"+1415{prefix:03d}{index:04d}" for index in range(count)]


def ack_run(db: str, *, seconds: float, clients: int) -> dict[str, Any]:
    """Webhook acknowledgement in the queued mode beside the bare view (no worker)."""
    with gunicorn(db, workers=2, LEXI_REPLY_MODE="queued") as base:
        url = base + WEBHOOK_PATH
        warm = signed_bodies(url, count=200, offset=20_000_000)
        load(base, WEBHOOK_PATH, warm, name="warmup", clients=4, seconds=2)
        load(base, BARE_PATH, warm, name="warmup", clients=4, seconds=1)
        bare = load(base, BARE_PATH, warm, name="bare", clients=clients, seconds=seconds)
        pool = max(2000, int(seconds * 3000))
        bodies = signed_bodies(url, count=pool, offset=21_000_000)
        queued = load(base, WEBHOOK_PATH, bodies, name="queued", clients=clients, seconds=seconds)
    tasks_clear(db)
    return {"bare": asdict(bare), "queued": asdict(queued)}


def latency_run(db: str, *, debounce: float) -> dict[str, Any]:
    """Text in → REST send out, one worker, texts from new patients 0.4 s apart."""
    twilio = TimedTwilio().start()
    try:
        queued = {"LEXI_REPLY_MODE": "queued", "LEXI_REPLY_DEBOUNCE_SECONDS": str(debounce)}
        with gunicorn(db, workers=2, **queued) as base:
            settings = sending_settings(twilio, base, **queued)
            with db_workers(db, 1, **settings), httpx.Client(timeout=10) as http:
                warm = sender_numbers(301, 1)[0]
                text_post(http, base, sender=warm, body="hi")
                if not wait_until(lambda: warm in twilio.arrived, timeout=debounce + 30):
                    return {"error": "the worker sent no reply within its warm-up"}
                sent_at: dict[str, float] = {}
                for sender in sender_numbers(302, LATENCY_TEXTS):
                    sent_at[sender] = time.perf_counter()
                    text_post(http, base, sender=sender, body="What are your hours?")
                    time.sleep(LATENCY_GAP_SECONDS)
                arrived = wait_until(
                    lambda: all(s in twilio.arrived for s in sent_at), timeout=debounce + 30
                )
                latencies = sorted(
                    (twilio.arrived[s][0] - t) * 1000
                    for s, t in sent_at.items()
                    if s in twilio.arrived
                )
    finally:
        twilio.stop()
        tasks_clear(db)
    return {
        "debounce_s": debounce,
        "texts": LATENCY_TEXTS,
        "answered": len(latencies),
        "complete": arrived,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def throughput_run(db: str, *, workers: int) -> dict[str, Any]:
    """THROUGHPUT_TEXTS texts from as many patients, answered and sent by `workers` workers."""
    twilio = TimedTwilio().start()
    try:
        queued = {"LEXI_REPLY_MODE": "queued", "LEXI_REPLY_DEBOUNCE_SECONDS": "0"}
        with gunicorn(db, workers=2, **queued) as base:
            settings = sending_settings(twilio, base, **queued)
            with db_workers(db, workers, **settings), httpx.Client(timeout=10) as http:
                warm = sender_numbers(400 + workers, workers)
                for sender in warm:
                    text_post(http, base, sender=sender, body="hi")
                if not wait_until(lambda: all(s in twilio.arrived for s in warm), timeout=30):
                    return {"workers": workers, "error": "no reply within the warm-up"}
                senders = sender_numbers(500 + workers, THROUGHPUT_TEXTS)
                started = time.perf_counter()
                _post_all(base, senders)
                posted = time.perf_counter() - started
                done = wait_until(lambda: all(s in twilio.arrived for s in senders), timeout=120)
                last = max(
                    (twilio.arrived[s][0] for s in senders if s in twilio.arrived), default=0
                )
    finally:
        twilio.stop()
        tasks_clear(db)
    answered = sum(1 for s in senders if s in twilio.arrived)
    elapsed = last - started if answered else 0.0
    return {
        "workers": workers,
        "texts": THROUGHPUT_TEXTS,
        "answered": answered,
        "complete": done,
        "post_seconds": round(posted, 2),
        "seconds": round(elapsed, 2),
        "turns_per_s": round(answered / elapsed, 1) if elapsed else 0.0,
    }


def _post_all(base: str, senders: list[str], *, clients: int = 8) -> None:
    """Post one text per sender from `clients` threads (the webhook only stores and enqueues)."""
    chunks = [senders[index::clients] for index in range(clients)]

    def post(chunk: list[str]) -> None:
        with httpx.Client(timeout=10) as http:
            for position, sender in enumerate(chunk):
                text_post(
                    http, base, sender=sender, body="What are your hours?", clinic=position % 2
                )

    threads = [threading.Thread(target=post, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def burst_run(db: str, *, debounce: float = 3.0) -> dict[str, Any]:
    """Three texts within a second, model engine: model requests and texts sent."""
    twilio = TimedTwilio().start()
    model = ScriptedOpenAI().start()
    model.always(text_completion("Sure! Tomorrow morning I have 9:00 or 10:30. Which works?"))
    engine = {
        "LEXI_ENGINE": "openai",
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": model.base_url,
        "LEXI_REPLY_DEBOUNCE_SECONDS": str(debounce),
    }
    try:
        with gunicorn(db, workers=2, **engine) as base:
            settings = sending_settings(twilio, base, **engine)
            with db_workers(db, 1, **settings), httpx.Client(timeout=10) as http:
                [patient] = sender_numbers(601, 1)
                for index, body in enumerate(BURST):
                    if index:
                        time.sleep(0.3)
                    text_post(http, base, sender=patient, body=body)
                wait_until(lambda: patient in twilio.arrived, timeout=debounce + 30)
                time.sleep(debounce + 1)  # a second turn, if any, would have gone out by now
    finally:
        twilio.stop()
        model.stop()
        tasks_clear(db)
    return {
        "texts": len(BURST),
        "debounce_s": debounce,
        "model_requests": len(model.requests),
        "texts_sent": len(twilio.arrived.get(patient, [])),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--db", default=env.DB_SMALL)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    tasks_clear(args.db)
    env.json_write(
        args.json_out,
        {
            "ack": ack_run(args.db, seconds=args.seconds, clients=args.clients),
            "latency": [latency_run(args.db, debounce=d) for d in (3.0, 0.0)],
            "throughput": [throughput_run(args.db, workers=n) for n in (1, 2)],
            "burst": burst_run(args.db),
        },
    )


if __name__ == "__main__":
    main()
