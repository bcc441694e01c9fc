"""Generate conversations and messages at scale for `make bench` (PostgreSQL, COPY).

    DJANGO_SETTINGS_MODULE=bench.settings python manage.py bench_seed --conversations 100000 \
        --messages 1000000

Spreads them over the demo clinics plus `--organizations` bench clinics, with a year of
timestamps, counters and previews consistent with the messages. Run it as the table owner:
COPY goes around the tenant manager and row-level security (an operation on the platform, not
on one clinic). With the same counts already in place it does nothing, unless --force.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from conversations.models import Conversation, Message
from tenants.models import Organization
from tenants.scoping import unscoped

CHANNELS = ("sms",) * 16 + ("voice",) * 2 + ("whatsapp", "web")
AREA_CODES = ("619", "850", "415", "212", "305")
PATIENT_NAMES = ("", "", "Maria Lopez", "James Carter", "Ana Silva", "Tom Becker", "", "Li Wei")
USER_TEXTS = (
    "Hi, I'd like to book a cleaning",
    "Do you have anything Tuesday morning?",
    "I have a toothache, can I come in soon?",
    "What are your hours?",
    "Can I move my appointment to next week?",
    "Thanks!",
)
LEXI_TEXTS = (
    "Hi! I can help with that. We have openings Tuesday at 10:00 AM or Wednesday at 2:30 PM. "
    "Which works best?",
    "You're booked with Dr. Pearl on Tuesday at 10:00 AM. Reply here if you need to change it.",
    "Our hours: Mon-Fri 8am-5pm (closed 12-1 for lunch).",
    "Sorry to hear that. The earliest emergency visit is tomorrow at 8:30 AM. Shall I book it?",
)


class Command(BaseCommand):
    help = "Seed conversations and messages at scale with COPY (for `make bench`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--conversations", type=int, default=100_000)
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument(
            "--organizations", type=int, default=8, help="bench clinics besides the demo ones"
        )
        parser.add_argument("--force", action="store_true", help="reseed even if counts match")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_seed needs PostgreSQL (it uses COPY).")
        conversations: int = options["conversations"]
        messages: int = options["messages"]
        if conversations <= 0 or messages < conversations:
            raise CommandError("Need conversations > 0 and at least one message each.")
        with unscoped():
            have = (Conversation.objects.count(), Message.objects.count())
            if have == (conversations, messages) and not options["force"]:
                self.stdout.write(f"Already seeded: {have[0]} conversations, {have[1]} messages.")
                return
            started = time.monotonic()
            organizations = self._organizations(options["organizations"])
            with transaction.atomic():
                self._clear()
                self._copy(organizations, conversations=conversations, messages=messages)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE conversations_conversation")
                cursor.execute("ANALYZE conversations_message")
        self.stdout.write(
            f"Seeded {conversations} conversations and {messages} messages over "
            f"{len(organizations)} clinics in {time.monotonic() - started:.1f} s."
        )

    def _organizations(self, extra: int) -> list[Organization]:
        for number in range(1, extra + 1):
            Organization.objects.get_or_create(
                slug=f"bench-clinic-{number:02d}",
                defaults={"name": f"Bench Clinic {number:02d}", "timezone": "America/Chicago"},
            )
        return list(Organization.objects.order_by("slug"))

    def _clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE conversations_toolcall, conversations_message, "
                "conversations_conversation CASCADE"
            )

    def _copy(
        self, organizations: list[Organization], *, conversations: int, messages: int
    ) -> None:
        now = datetime.now(tz=UTC).replace(microsecond=0)
        year = timedelta(days=365)
        counts = _message_counts(conversations, messages)
        conversation_columns = (
            "id, organization_id, session_id, channel, from_number, to_number, direction, "
            "call_status, start_timestamp, end_timestamp, metadata, needs_attention, "
            "attention_reason, message_count, last_message_at, last_message_preview, "
            "patient_name, lexi_state, created_at, updated_at"
        )
        message_columns = (
            "organization_id, conversation_id, role, content, timestamp, metadata, "
            "provider_message_id, outcome, fell_back, delivery_status"
        )
        ongoing_from = conversations - min(1000, conversations // 100)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's cursor, for COPY
            with raw.copy(
                f"COPY conversations_conversation ({conversation_columns}) FROM STDIN"
            ) as copy:
                for index in range(conversations):
                    organization = organizations[index % len(organizations)]
                    channel = CHANNELS[index % len(CHANNELS)]
                    ongoing = index >= ongoing_from
                    sender = _sender(index, unique=ongoing)
                    to_number = f"+1850403{index % len(organizations):04d}"
                    start = now - year + year * index / conversations
                    last = start + timedelta(minutes=2 * counts[index])
                    last_text = (LEXI_TEXTS if counts[index] % 2 == 0 else USER_TEXTS)[index % 4]
                    copy.write_row(
                        (
                            index + 1,
                            organization.pk,
                            f"{channel}_{sender[1:]}_{to_number[1:]}",
                            channel,
                            sender,
                            to_number,
                            "inbound",
                            "ongoing" if ongoing else "completed",
                            start,
                            None if ongoing else last,
                            json.dumps({"channel": "bench"}),
                            index % 50 == 0,
                            "The patient asked for a call back." if index % 50 == 0 else "",
                            counts[index],
                            last,
                            last_text,
                            PATIENT_NAMES[index % len(PATIENT_NAMES)],
                            "{}",
                            start,
                            last,
                        )
                    )
            with raw.copy(f"COPY conversations_message ({message_columns}) FROM STDIN") as copy:
                for index in range(conversations):
                    organization = organizations[index % len(organizations)]
                    start = now - year + year * index / conversations
                    for k in range(counts[index]):
                        user = k % 2 == 0
                        copy.write_row(
                            (
                                organization.pk,
                                index + 1,
                                "user" if user else "assistant",
                                (USER_TEXTS if user else LEXI_TEXTS)[(index + k) % 4],
                                start + timedelta(minutes=2 * k),
                                "{}",
                                f"SMb{uuid.UUID(int=index * 64 + k).hex[-29:]}" if user else None,
                                "answered" if user else "",
                                False,
                                "",
                            )
                        )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('conversations_conversation', 'id'), %s)",
                [conversations],
            )


def _message_counts(conversations: int, messages: int) -> list[int]:
    """Between 2 and 18 messages a conversation (10 on average), summing to `messages`."""
    average = messages / conversations
    counts = [max(1, round(average + ((index * 7919) % 17) - 8)) for index in range(conversations)]
    difference = messages - sum(counts)
    step = 1 if difference > 0 else -1
    index = 0
    while difference:
        if step > 0 or counts[index % conversations] > 1:
            counts[index % conversations] += step
            difference -= step
        index += 1
    return counts


def _sender(index: int, *, unique: bool) -> str:
    if unique:  # ongoing conversations: one per session (the partial unique constraint)
        return f"+1415{9_000_000 + index % 1_000_000:07d}"
    area = AREA_CODES[index % len(AREA_CODES)]
    return f"+1{area}555{(index * 37) % 10_000:04d}"
