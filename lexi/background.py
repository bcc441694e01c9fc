"""Enqueueing Django Tasks the way Lexi needs: visible to workers when the transaction that
made the work commits, never before.

A task enqueued inside a transaction could run (on another worker, or on Redis) before its
rows are visible, find nothing and quietly end. Deferral (`run_after`) is asked for only where
the backend supports it; the immediate backend (tests, --local) runs the task at once.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.tasks import Task, task_backends
from django_tasks_db import DatabaseBackend


def task_enqueue_on_commit(task: Task, *args: Any, run_after: datetime | None = None) -> None:
    """Enqueue `task(*args)` once the current transaction commits (at once outside one).

    A queue kept in this same database (django-tasks-db) is written inside the transaction
    instead: workers see the task exactly when the transaction commits, it goes with a
    rollback, and the enqueue costs no transaction of its own.
    """
    backend = task_backends[task.backend]
    if isinstance(backend, DatabaseBackend) and transaction.get_connection().in_atomic_block:
        task_enqueue(task, *args, run_after=run_after)
        return
    transaction.on_commit(lambda: task_enqueue(task, *args, run_after=run_after), robust=True)


def task_enqueue(task: Task, *args: Any, run_after: datetime | None = None) -> None:
    """Enqueue `task(*args)` now, deferred to `run_after` when the backend can defer."""
    if run_after is not None and task_backends[task.backend].supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(*args)


def tasks_defer_supported() -> bool:
    """Whether the default backend runs tasks later (a worker), not at once in this process."""
    return bool(task_backends["default"].supports_defer)
