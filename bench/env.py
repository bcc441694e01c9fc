"""Where the bench runs: databases, roles, environment, and the two demo clinics.

Tables are owned by lexi_owner (migrations, seeding); the application runs as lexi_app, which
owns nothing and is subject to row-level security, as in production. Each section runs in its
own process (`python -m bench.<section>`) so that Django is configured once, as that role.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable

PG_HOST = os.environ.get("BENCH_PGHOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PGPORT", "5432")
ADMIN_ROLE = os.environ.get("BENCH_PG_SUPERUSER", "postgres")
OWNER_ROLE = "lexi_owner"
APP_ROLE = "lexi_app"

DB_SMALL = os.environ.get("BENCH_DB", "lexi_bench")
DB_SCALE = os.environ.get("BENCH_DB_SCALE", "lexi_bench_scale")

TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"  # noqa: S105 -- bench-only, loopback
TWILIO_ACCOUNT_SID = "AC3b9e2f7a41c84d0e9f6a5b4c3d2e1f00"
SECRET_KEY = "bench-only-secret-key-not-for-production"  # noqa: S105 -- bench-only

# The demo fixture's clinics: the number each answers on.
DEMO_NUMBERS = ("+18504036622", "+16195550142")
DEMO_SLUGS = ("barton-dental", "harbor-family-dentistry")


def database_url(db: str, *, role: str) -> str:
    return f"postgres://{role}@{PG_HOST}:{PG_PORT}/{db}"


def django_env(db: str, *, role: str = APP_ROLE, **extra: str) -> dict[str, str]:
    """The environment of a Django process on the bench database (DEBUG off, offline engine)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "LEXI_", "TWILIO_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=database_url(db, role=role),
        DEBUG="False",
        SECRET_KEY=SECRET_KEY,
        STATIC_MANIFEST="False",
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_ACCOUNT_SID=TWILIO_ACCOUNT_SID,
        LEXI_ENGINE="offline",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="600",
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="lexi.settings",
    )
    env.update(extra)
    return env


def psql(sql: str, *, db: str = "postgres", role: str | None = None) -> str:
    """Run SQL with psql; returns stdout (unaligned, tuples only)."""
    result = subprocess.run(  # noqa: S603 -- our own tools, fixed arguments
        [  # noqa: S607 -- psql/wrk from PATH, as in .ci/run
            "psql",
            "-h",
            PG_HOST,
            "-p",
            PG_PORT,
            "-U",
            role or ADMIN_ROLE,
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def manage(db: str, *args: str, role: str = OWNER_ROLE, quiet: bool = True) -> str:
    result = subprocess.run(  # noqa: S603 -- our own tools, fixed arguments
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=django_env(db, role=role, DJANGO_SETTINGS_MODULE="bench.settings"),  # bench_seed
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"bench: manage.py {' '.join(args)} failed on {db}")
    return result.stdout


def database_prepare(db: str, *, fresh: bool) -> None:
    """Create (or recreate) `db` owned by lexi_owner, migrate it and load the demo."""
    roles = (ROOT / ".ci" / "roles.sql").read_text()
    subprocess.run(  # noqa: S603 -- our own tools, fixed arguments
        ["psql", "-h", PG_HOST, "-p", PG_PORT, "-U", ADMIN_ROLE, "-d", "postgres", "-qAt"],  # noqa: S607 -- psql/wrk from PATH, as in .ci/run
        input=roles,
        text=True,
        check=True,
        capture_output=True,
    )
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"  # noqa: S608 -- bench-owned names and integers, no user input
    if exists and fresh:
        psql(f'DROP DATABASE "{db}" WITH (FORCE)')
        exists = False
    if not exists:
        psql(f'CREATE DATABASE "{db}" OWNER {OWNER_ROLE}')
    manage(db, "migrate", "--noinput")
    if psql("SELECT count(*) FROM tenants_organization", db=db) == "0":
        manage(db, "loaddata", "demo")


def section_run(module: str, db: str, *args: str, **extra_env: str) -> dict[str, Any]:
    """Run `python -m bench.<module> --json-out FILE ...` as lexi_app; return its JSON."""
    out = ROOT / "bench" / ".out" / f"{module}.json"
    out.parent.mkdir(exist_ok=True)
    out.unlink(missing_ok=True)
    result = subprocess.run(  # noqa: S603 -- our own tools, fixed arguments
        [PYTHON, "-m", f"bench.{module}", "--json-out", str(out), *args],
        cwd=ROOT,
        env=django_env(db, **extra_env),
        check=False,
    )
    if result.returncode != 0 or not out.exists():
        return {"error": f"bench.{module} exited with {result.returncode}"}
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def json_write(path: str, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str))
