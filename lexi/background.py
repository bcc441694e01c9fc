"""Enqueueing Django Tasks the way Lexi needs: after the transaction that made the work commits.

A task enqueued inside a transaction could run (on another worker, or on Redis) before its
rows are visible, find nothing and quietly end. Deferral (`run_after`) is asked for only where
the backend supports it; the immediate backend (tests, --local) runs the task at once.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.tasks import Task, task_backends


def task_enqueue_on_commit(task: Task, *args: Any, run_after: datetime | None = None) -> None:
    """Enqueue `task(*args)` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_enqueue(task, *args, run_after=run_after), robust=True)


def task_enqueue(task: Task, *args: Any, run_after: datetime | None = None) -> None:
    """Enqueue `task(*args)` now, deferred to `run_after` when the backend can defer."""
    if run_after is not None and task_backends[task.backend].supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(*args)


def tasks_defer_supported() -> bool:
    """Whether the default backend runs tasks later (a worker), not at once in this process."""
    return bool(task_backends["default"].supports_defer)
