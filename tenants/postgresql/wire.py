"""Round trips to the database, read from libpq's protocol trace (for the bench and tests).

A round trip is a run of messages the client sent followed by the server's answer: what the
client waits for. Statements sent together in a pipeline count once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class WireTrace:
    """What went over one Django connection while `tracing()` was open."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.lines: list[str] = []

    @property
    def round_trips(self) -> int:
        return wire_round_trips(self.lines)

    def sent(self, keyword: str) -> int:
        """How many statements starting with `keyword` (e.g. "SAVEPOINT") the client sent."""
        return sum(
            1
            for line in self.lines
            if line.startswith("F\t")
            and f'"{keyword}' in line
            and ("Parse" in line or "Query" in line)
        )

    @contextmanager
    def tracing(self) -> Iterator[WireTrace]:
        from psycopg.pq import Trace

        self.connection.ensure_connection()
        pgconn = self.connection.connection.pgconn
        with tempfile.NamedTemporaryFile(mode="w+", suffix=".pqtrace") as log:
            pgconn.trace(log.fileno())
            pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
            try:
                yield self
            finally:
                pgconn.untrace()  # flushes the trace
                log.seek(0)
                self.lines = log.read().splitlines()


def _statement_of(line: str) -> str:
    """The SQL of a traced Parse or Query message, else ""."""
    fields = line.split("\t")
    if len(fields) < 4 or fields[2] not in ("Parse", "Query"):
        return ""
    text = fields[3].strip()
    # Parse: "name" "sql" ...; Query: "sql"
    quoted = text.split('" "', 1)[1] if fields[2] == "Parse" else text[1:]
    return quoted.lstrip('"')


def wire_round_trips(lines: list[str]) -> int:
    """Client-to-server message runs that the server answered (F lines, then B lines)."""
    trips = 0
    sending = False
    for line in lines:
        direction = line.split("\t", 1)[0]
        if direction == "F":
            sending = True
        elif direction == "B" and sending:
            trips += 1
            sending = False
    return trips
