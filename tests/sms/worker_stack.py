"""Real task workers for end-to-end tests: `db_worker` (django-tasks-db) or `rqworker` (RQ on
Redis) in their own processes, on the test database, sending through a local Twilio."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Its own Redis database per checkout (REDIS_TEST_URL), so that parallel runs never take each
# other's jobs; CI runs alone and keeps the default.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/9")


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker process: this test's database and settings that matter."""
    db = connection.settings_dict
    user = db["USER"] or ""
    url = f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "LEXI_", "TWILIO_", "OPENAI_"))
    }
    env.update(
        DATABASE_URL=url,
        LEXI_READ_DOTENV="0",
        SECRET_KEY="test-only-secret-key-not-for-production",
        DEBUG="False",
        LOG_LEVEL="WARNING",
        LEXI_ENGINE=settings.LEXI_ENGINE,
        OPENAI_API_KEY=settings.OPENAI_API_KEY,
        OPENAI_BASE_URL=settings.OPENAI_BASE_URL or "",
        LEXI_SMS_BACKEND=settings.LEXI_SMS_BACKEND,
        TWILIO_API_BASE_URL=settings.TWILIO_API_BASE_URL,
        TWILIO_ACCOUNT_SID=settings.TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=settings.TWILIO_AUTH_TOKEN,
        PUBLIC_BASE_URL=settings.PUBLIC_BASE_URL,
        LEXI_REPLY_DEBOUNCE_SECONDS=str(settings.LEXI_REPLY_DEBOUNCE_SECONDS),
        LEXI_TURN_LEASE_SECONDS=str(settings.LEXI_TURN_LEASE_SECONDS),
        LEXI_SEND_BACKOFF_SECONDS=str(settings.LEXI_SEND_BACKOFF_SECONDS),
        LEXI_SEND_RETRY_WINDOW_SECONDS=str(settings.LEXI_SEND_RETRY_WINDOW_SECONDS),
        REDIS_URL=REDIS_TEST_URL,
    )
    env.update(overrides)
    return env


class Worker:
    """One worker process; its output goes to a file the test can show when it fails."""

    def __init__(self, backend: str, env: dict[str, str]) -> None:
        self.log = Path(tempfile.mkstemp(prefix=f"lexi-{backend}-worker-", suffix=".log")[1])
        if backend == "rq":
            command = [
                "rqworker",
                "--with-scheduler",
                "--job-class",
                "django_tasks_rq.backend.Job",
                "default",
            ]
        else:
            command = ["db_worker", "--interval", "0.05", "--no-reload", "--no-startup-delay"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 -- our own manage.py, fixed arguments
                [sys.executable, str(ROOT / "manage.py"), *command],
                cwd=ROOT,
                env={**env, "LEXI_TASKS_BACKEND": backend},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as on a crashed host."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, workers: list[Worker]) -> Any:
    """Poll `check` until it returns something truthy; fail with the workers' output if not."""
    give_up_at = time.monotonic() + timeout
    while time.monotonic() < give_up_at:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    logs = "\n".join(w.output() for w in workers)
    raise AssertionError(f"timed out waiting for {what}; worker output:\n{logs}")
