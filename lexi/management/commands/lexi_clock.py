"""The clock: enqueues the periodic sweeps (LEXI_PERIODIC_TASKS) every LEXI_CLOCK_SECONDS.

Like celery beat, it only enqueues: the sweeps run on the task workers, and each is safe to
run twice, so two clocks (or a clock restarted mid-minute) cost a little work, never a
duplicate text. `make run` starts one beside the server and the worker; in production run
exactly one per deployment.

python manage.py lexi_clock            # every minute until stopped
python manage.py lexi_clock --once     # one round (cron, tests)
"""

import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.tasks import Task
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Enqueue Lexi's periodic sweeps every LEXI_CLOCK_SECONDS (or once with --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        tasks: list[Task] = [import_string(path) for path in settings.LEXI_PERIODIC_TASKS]
        stopped = threading.Event()
        if not options["once"]:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stopped.set())
            self.stdout.write(
                f"lexi clock: {len(tasks)} periodic task(s) every "
                f"{settings.LEXI_CLOCK_SECONDS:g}s; Ctrl-C to stop."
            )
        while not stopped.is_set():
            started = time.monotonic()
            for task in tasks:
                task.enqueue()
            if options["once"]:
                return
            stopped.wait(max(0.0, settings.LEXI_CLOCK_SECONDS - (time.monotonic() - started)))
