"""Lexi's settings plus the bench-only endpoints: what `make bench` runs gunicorn with."""

from lexi.settings import *  # noqa: F403 -- a settings module extends the project's

# Adds /bench/bare (lexi/urls.py): the framework's ceiling, beside the real webhook.
LEXI_BENCH_ENDPOINTS = True
