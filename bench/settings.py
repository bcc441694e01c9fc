"""Lexi's settings plus the dev-only bench app: what `make bench` runs Django with."""

from lexi.settings import *  # noqa: F403 -- a settings module extends the project's
from lexi.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # `manage.py bench_seed`
ROOT_URLCONF = "bench.urls"  # adds /bench/bare; the production URLconf never imports bench
