"""In-process measuring: Django set up once, queries and database round trips counted.

`CaptureQueriesContext` sees the statements Django runs; the tenant backend also sends
BEGIN, `set_config` for row-level security and savepoints (tenants/postgresql/base.py), and
every transaction ends in a COMMIT. `RoundTrips` counts the `set_config` calls and commits;
`WireTrace` (tenants/postgresql/wire.py) reads libpq's protocol trace and counts the round trips
themselves: each time the client sent messages and then waited for the server's answer.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenants.postgresql.wire import WireTrace

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lexi.settings")
    import django

    django.setup()


@dataclass
class Counted:
    seconds: float
    queries: int
    set_config: int
    commits: int
    transaction_statements: int = 0
    round_trips: int = 0
    cpu_seconds: float = 0.0
    sql: list[str] = field(default_factory=list)

    @property
    def statements(self) -> int:
        """SQL statements that read or write rows (no BEGIN/COMMIT/SAVEPOINT)."""
        return self.queries - self.transaction_statements


class RoundTrips:
    """Counts `set_config` statements and commits on the default connection."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection: Any = connection
        self.set_config = 0
        self.commits = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        from psycopg import Cursor

        connection = self.connection
        original_commit = connection._commit
        original_execute = Cursor.execute

        def commit(*args: Any, **kwargs: Any) -> Any:
            self.commits += 1
            return original_commit(*args, **kwargs)

        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(query, str) and "set_config('lexi.organization_ids'" in query:
                self.set_config += 1
            return original_execute(cursor, query, *args, **kwargs)

        connection._commit = commit
        Cursor.execute = execute  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            del connection._commit
            Cursor.execute = original_execute  # type: ignore[method-assign]


def counted(
    action: Callable[[], Any], *, keep_sql: bool = False, trace: bool = False
) -> tuple[Any, Counted]:
    """Run `action` once; its result, wall and CPU time, queries, set_config calls and commits,
    and with `trace` the round trips (tracing costs time: don't time a traced run)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    trips = RoundTrips()
    wire = WireTrace(connection)
    tracing = wire.tracing() if trace else contextlib.nullcontext()
    with CaptureQueriesContext(connection) as captured, trips.counting(), tracing:
        started = time.perf_counter()
        cpu_started = time.process_time()
        result = action()
        cpu = time.process_time() - cpu_started
        elapsed = time.perf_counter() - started
    everything = [q["sql"] for q in captured.captured_queries]
    return result, Counted(
        seconds=elapsed,
        queries=len(everything),
        set_config=trips.set_config,
        commits=trips.commits,
        round_trips=wire.round_trips,
        cpu_seconds=cpu,
        transaction_statements=sum(1 for sql in everything if is_transaction_control(sql)),
        sql=everything if keep_sql else [],
    )


def is_transaction_control(sql: str) -> bool:
    return sql in ("BEGIN", "COMMIT", "ROLLBACK") or sql.startswith(_SAVEPOINTS)


_SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def timed_repeats(action: Callable[[], Any], *, repeats: int, budget_seconds: float) -> list[float]:
    """Wall times of up to `repeats` runs of `action`, stopping once `budget_seconds` is spent."""
    times: list[float] = []
    deadline = time.monotonic() + budget_seconds
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break
    return times


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def median_ms(values: list[float]) -> float:
    return ms(statistics.median(values)) if values else 0.0


def p90_ms(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ms(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))])
