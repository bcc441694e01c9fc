"""In-process measuring: Django set up once, queries and database round trips counted.

`CaptureQueriesContext` sees the statements Django runs; the tenant backend also sends
`set_config` for row-level security on the raw cursor (tenants/postgresql/base.py), and every
transaction ends in a COMMIT. `RoundTrips` counts those too, so the figures are what the
database actually receives.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    sql: list[str] = field(default_factory=list)

    @property
    def statements(self) -> int:
        """SQL statements that read or write rows (no BEGIN/COMMIT/SAVEPOINT)."""
        return self.queries - self.transaction_statements


class RoundTrips:
    """Counts the tenant backend's set_config calls and commits on the default connection."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection: Any = connection
        self.set_config = 0
        self.commits = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        connection = self.connection
        original_apply = connection.rls_apply if hasattr(connection, "rls_apply") else None
        original_commit = connection._commit

        def rls_apply(*args: Any, **kwargs: Any) -> Any:
            self.set_config += 1
            assert original_apply is not None  # noqa: S101 -- only patched when present
            return original_apply(*args, **kwargs)

        def commit(*args: Any, **kwargs: Any) -> Any:
            self.commits += 1
            return original_commit(*args, **kwargs)

        if original_apply is not None:
            connection.rls_apply = rls_apply
        connection._commit = commit
        try:
            yield
        finally:
            if original_apply is not None:
                del connection.rls_apply
            del connection._commit


def counted(action: Callable[[], Any], *, keep_sql: bool = False) -> tuple[Any, Counted]:
    """Run `action` once; its result, wall time, queries, set_config calls and commits."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    trips = RoundTrips()
    with CaptureQueriesContext(connection) as captured, trips.counting():
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
    everything = [q["sql"] for q in captured.captured_queries]
    return result, Counted(
        seconds=elapsed,
        queries=len(everything),
        set_config=trips.set_config,
        commits=trips.commits,
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
