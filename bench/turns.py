"""Sections 2 and 3: what one turn costs as the conversation grows.

Section 2 posts signed texts to the real webhook view (django.test.Client, in process, offline
engine) in conversations with 1, 10, 100 and 1,000 earlier messages, and counts SQL queries,
row-level-security set_config calls and commits per turn. Section 3 runs the same turns with
the OpenAI engine against the scripted OpenAI-compatible server on 127.0.0.1 and measures what
it receives: the size of each request (tokens ~ characters / 4; tiktoken if installed).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import env
from bench.measure import counted, django_setup, median_ms, ms

WEBHOOK_PATH = "/api/twilio/incoming-sms"
SIGNED_URL = "http://testserver" + WEBHOOK_PATH
TURN_TEXTS = ("What are your hours?", "Hi, I'd like to book a cleaning", "Where are you located?")
HISTORY_USER = (
    "Hi, do you have anything for a cleaning next week?",
    "Tuesday afternoon works better for me",
    "Is Dr. Pearl available?",
    "Thanks, see you then!",
)
HISTORY_LEXI = (
    "Hi! I can help with that. We have openings for a cleaning on Tuesday at 10:00 AM, "
    "Wednesday at 2:30 PM or Thursday at 9:00 AM. Which works best for you?",
    "Great, I've booked your cleaning with Dr. Pearl on Tuesday at 2:30 PM. Reply here if you "
    "need to change it.",
)


def tokens_counter() -> tuple[str, Any]:
    try:
        import tiktoken  # only if already installed; nothing is downloaded

        encoding = tiktoken.get_encoding("o200k_base")
        return "tiktoken o200k_base", lambda text: len(encoding.encode(text))
    except Exception:
        return "characters / 4", lambda text: len(text) // 4


def conversation_with_history(*, to_number: str, length: int) -> tuple[Any, str]:
    """A new ongoing SMS conversation with `length` earlier messages; returns it and its sender."""
    from django.utils import timezone

    from conversations.models import Channel, Conversation, Message
    from tenants.models import PhoneNumber
    from tenants.scoping import tenant_scope, unscoped

    with unscoped():
        organization = PhoneNumber.objects.select_related("organization").get(number=to_number)
    organization = organization.organization
    sender = f"+1415{random.randint(3_000_000, 9_999_999)}"
    digits = "".join(ch for ch in sender if ch.isdigit())
    to_digits = "".join(ch for ch in to_number if ch.isdigit())
    now = timezone.now()
    first = now - timedelta(minutes=length + 5)
    with tenant_scope(organization):
        conversation = Conversation.objects.create(
            organization=organization,
            session_id=f"sms_{digits}_{to_digits}",
            channel=Channel.SMS,
            from_number=sender,
            to_number=to_number,
            start_timestamp=first,
            message_count=length,
            last_message_at=first + timedelta(minutes=length - 1),
            metadata={"channel": "twilio_sms"},
        )
        rows = []
        for index in range(length):
            user = index % 2 == 0
            texts = HISTORY_USER if user else HISTORY_LEXI
            rows.append(
                Message(
                    organization=organization,
                    conversation=conversation,
                    role=Message.Role.USER if user else Message.Role.ASSISTANT,
                    content=texts[(index // 2) % len(texts)],
                    timestamp=first + timedelta(minutes=index),
                    outcome="answered",
                )
            )
        Message.objects.bulk_create(rows, batch_size=1000)
    return conversation, sender


def turn_post(client: Any, *, sender: str, to_number: str, text: str) -> Any:
    import uuid

    from frontdesk.twilio import signature_compute

    fixture = json.loads((env.ROOT / "tests" / "sms" / "fixtures" / "inbound_sms.json").read_text())
    sid = "SM" + uuid.uuid4().hex
    params = {
        **fixture,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "From": sender,
        "To": to_number,
        "Body": text,
    }
    signature = signature_compute(url=SIGNED_URL, params=params, token=env.TWILIO_TOKEN)
    response = client.post(
        WEBHOOK_PATH,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    if response.status_code != 200:
        raise SystemExit(f"the webhook answered {response.status_code}: {response.content[:300]!r}")
    return response


def last_reply_metadata(conversation: Any) -> dict[str, Any]:
    from conversations.models import Message
    from tenants.scoping import tenant_scope

    with tenant_scope(conversation.organization):
        reply = (
            Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT)
            .order_by("-id")
            .first()
        )
    return dict(reply.metadata) if reply is not None else {}


def engine_label(meta: dict[str, Any]) -> str:
    return f"{meta.get('engine', '?')}{' (fell back)' if meta.get('fell_back') else ''}"


def per_turn_cost(lengths: list[int], *, turns: int) -> list[dict[str, Any]]:
    from django.test import Client

    client = Client()
    # Warm the process (imports, connection, each clinic's cached data) on throwaway
    # conversations.
    for to_number in env.DEMO_NUMBERS:
        _conversation, sender = conversation_with_history(to_number=to_number, length=2)
        for text in TURN_TEXTS:
            turn_post(client, sender=sender, to_number=to_number, text=text)
    rows = []
    for length in lengths:
        for to_number in env.DEMO_NUMBERS:
            conversation, sender = conversation_with_history(to_number=to_number, length=length)
            samples: list[Any] = []
            traced: list[Any] = []
            engines = set()
            for index in range(turns):
                text = TURN_TEXTS[index % len(TURN_TEXTS)]
                _response, cost = counted(
                    functools.partial(
                        turn_post, client, sender=sender, to_number=to_number, text=text
                    ),
                    keep_sql=length == lengths[-1] and index == 0,
                    trace=index % 2 == 0,  # every text is both traced and timed
                )
                (traced if index % 2 == 0 else samples).append(cost)
                meta = last_reply_metadata(conversation)
                engines.add(engine_label(meta))
            rows.append(
                {
                    "history": length,
                    "clinic": to_number,
                    "turns": len(samples) + len(traced),
                    "queries_median": statistics.median(s.statements for s in [*samples, *traced]),
                    "queries_max": max(s.statements for s in [*samples, *traced]),
                    "begin_commit_median": statistics.median(
                        s.transaction_statements for s in samples
                    ),
                    "set_config_median": statistics.median(
                        s.set_config for s in [*samples, *traced]
                    ),
                    # Every wait on the database, read from libpq's protocol trace.
                    "round_trips_median": statistics.median(s.round_trips for s in traced),
                    "round_trips_max": max(s.round_trips for s in traced),
                    # This process's CPU (Django, the engine, psycopg), not PostgreSQL's.
                    "cpu_ms_median": median_ms([s.cpu_seconds for s in samples]),
                    "commits_median": statistics.median(s.commits for s in samples),
                    "ms_median": median_ms([s.seconds for s in samples]),
                    "ms_max": ms(max(s.seconds for s in samples)),
                    "engines": sorted(engines),
                    "sql": next((s.sql for s in traced if s.sql), []),
                }
            )
    return rows


def cpu_split(*, turns: int) -> dict[str, Any]:
    """CPU per turn of this process (Django, the engine, psycopg) and of its PostgreSQL backend,
    over `turns` texts of the webhook section's mix (a new patient, then the same one again).

    The backend's CPU is read from /proc (clock ticks), so it is reported over the whole run.
    """
    import os
    import time

    from django.db import connection
    from django.test import Client

    from bench.webhook import PATIENT_TEXTS

    client = Client()
    connection.ensure_connection()
    backend = Path(f"/proc/{connection.connection.info.backend_pid}/stat")
    if not backend.exists():
        return {"error": "the database runs on another machine: its CPU cannot be read here"}
    tick = os.sysconf("SC_CLK_TCK")

    def backend_seconds() -> float:
        fields = backend.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    senders = [f"+1415{random.randint(3_000_000, 9_999_999)}" for _ in range(turns // 2 + 1)]
    started_db, started = backend_seconds(), time.process_time()
    for index in range(turns):
        to_number = env.DEMO_NUMBERS[index % len(env.DEMO_NUMBERS)]
        text = PATIENT_TEXTS[index % len(PATIENT_TEXTS)]
        turn_post(client, sender=senders[index // 2], to_number=to_number, text=text)
    python = time.process_time() - started
    database = backend_seconds() - started_db
    return {
        "turns": turns,
        "python_cpu_ms": ms(python / turns),
        "database_cpu_ms": ms(database / turns),
    }


def prompt_size(lengths: list[int], *, turns: int) -> dict[str, Any]:
    from django.test import Client, override_settings

    from tests.lexi.openai_server import ScriptedOpenAI, text_completion

    label, count_tokens = tokens_counter()
    server = ScriptedOpenAI().start()
    server.always(lambda body, srv: text_completion("Sure! Anything else I can help with?"))
    rows = []
    try:
        with override_settings(
            OPENAI_API_KEY="sk-bench-not-a-real-key",
            OPENAI_BASE_URL=server.base_url,
            LEXI_ENGINE="openai",
            LEXI_REPLY_MODE="twiml",  # a model's default is the queued mode: answer inline here
        ):
            client = Client()
            for length in lengths:
                conversation, sender = conversation_with_history(
                    to_number=env.DEMO_NUMBERS[0], length=length
                )
                sizes: list[int] = []
                messages: list[int] = []
                requests_per_turn: list[int] = []
                engines = set()
                for index in range(turns):
                    before = len(server.requests)
                    turn_post(
                        client,
                        sender=sender,
                        to_number=env.DEMO_NUMBERS[0],
                        text=TURN_TEXTS[index % len(TURN_TEXTS)],
                    )
                    bodies = server.requests[before:]
                    requests_per_turn.append(len(bodies))
                    for body in bodies:
                        sizes.append(count_tokens(json.dumps(body, ensure_ascii=False)))
                        messages.append(len(body.get("messages", [])))
                    meta = last_reply_metadata(conversation)
                    engines.add(engine_label(meta))
                rows.append(
                    {
                        "history": length,
                        "requests_per_turn": statistics.median(requests_per_turn)
                        if requests_per_turn
                        else 0,
                        "tokens_median": statistics.median(sizes) if sizes else 0,
                        "tokens_max": max(sizes) if sizes else 0,
                        "messages_median": statistics.median(messages) if messages else 0,
                        "engines": sorted(engines),
                    }
                )
    finally:
        server.stop()
    return {"counter": label, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--lengths", default="1,10,100,1000")
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--skip-prompt", action="store_true")
    parser.add_argument("--cpu-turns", type=int, default=400)
    args = parser.parse_args()
    django_setup()
    lengths = [int(n) for n in args.lengths.split(",")]
    out: dict[str, Any] = {"cost": per_turn_cost(lengths, turns=args.turns)}
    out["cpu"] = cpu_split(turns=args.cpu_turns)
    if not args.skip_prompt:
        try:
            out["prompt"] = prompt_size(lengths, turns=max(2, args.turns // 2))
        except ImportError as exc:
            out["prompt"] = {"error": f"the scripted OpenAI server is missing: {exc}"}
    env.json_write(args.json_out, out)


if __name__ == "__main__":
    main()
