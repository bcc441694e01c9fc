"""The bench app is for development: production settings and URLs never load it."""

import os
import subprocess
import sys

_PROBE = (
    "import sys, django; django.setup(); import lexi.urls; "
    "from django.core.management import get_commands; "
    "print('bench' in sys.modules, 'bench_seed' in get_commands())"
)


def _probe(settings_module: str) -> str:
    env = dict(os.environ, DEBUG="True", DJANGO_SETTINGS_MODULE=settings_module)
    result = subprocess.run(  # noqa: S603 -- our own interpreter, fixed arguments
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_urls_and_commands_do_not_load_bench():
    assert _probe("lexi.settings") == "False False"


def test_bench_settings_add_the_seed_command():
    assert _probe("bench.settings") == "True True"
