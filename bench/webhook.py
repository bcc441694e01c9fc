"""Section 1: the webhook under gunicorn, full signed turns beside the bare ceiling.

gunicorn (2 sync workers, DEBUG off, offline engine, as lexi_app) serves both the real
webhook and /bench/bare (bench/settings.py). The load generator is `wrk` with a Lua script
that cycles through pre-signed bodies (every request a new MessageSid, senders spread over
both demo clinics); without wrk, an asyncio httpx client does the same, more slowly. Every
run is bounded by time and by the number of bodies prepared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import env

WEBHOOK_PATH = "/api/twilio/incoming-sms"
BARE_PATH = "/bench/bare"
PATIENT_TEXTS = (
    "Hi, I'd like to book a cleaning",
    "What are your hours?",
    "Do you have anything Tuesday morning?",
    "Where are you located?",
    "Do you take Delta Dental insurance?",
    "I have a toothache, can I come in soon?",
    "Thanks!",
    "Can I get a checkup next week?",
)
SENDERS_PER_CLINIC = 2000
WRK_LUA = r"""
local bodies = dofile(os.getenv("BENCH_BODIES"))
local path = os.getenv("BENCH_PATH")
local cycle = os.getenv("BENCH_CYCLE") == "1"
local n = #bodies
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[1])
end

function request()
  local i = tid + counter * nthreads + 1
  counter = counter + 1
  if i > n then
    if not cycle then wrk.thread:stop() end
    i = ((i - 1) % n) + 1
  end
  local b = bodies[i]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = b[1],
  }, b[2])
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors_status": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, ' ..
    '"pool": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    n))
end
"""


@dataclass
class LoadResult:
    name: str
    clients: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    generator: str
    outcomes: dict[str, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(db: str, *, workers: int, **settings: str) -> Iterator[str]:
    """gunicorn serving Lexi with the bench endpoints (and `settings` in its environment);
    yields its base URL."""
    port = free_port()
    # Kept after the run (delete=False) so a failed run can point at it.
    log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 -- our own tools, fixed arguments
        [
            str(env.ROOT / ".venv" / "bin" / "gunicorn"),
            "lexi.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=env.ROOT,
        env=env.django_env(db, DJANGO_SETTINGS_MODULE="bench.settings", **settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, Path(log.name))
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        if os.environ.get("BENCH_KEEP_LOG"):
            print(f"gunicorn log: {log.name}")
        else:
            Path(log.name).unlink(missing_ok=True)


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def signed_bodies(url: str, *, count: int, offset: int) -> list[tuple[str, str]]:
    """`count` (signature, form body) pairs: new MessageSids, senders over both clinics."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(env.TWILIO_TOKEN)
    fixture = json.loads((env.ROOT / "tests" / "sms" / "fixtures" / "inbound_sms.json").read_text())
    out = []
    for index in range(offset, offset + count):
        clinic = index % len(env.DEMO_NUMBERS)
        sender = f"+1415{2000000 + clinic * SENDERS_PER_CLINIC + (index // 2) % SENDERS_PER_CLINIC}"
        sid = "SM" + uuid.uuid4().hex
        params = {
            **fixture,
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "From": sender,
            "To": env.DEMO_NUMBERS[clinic],
            "Body": PATIENT_TEXTS[(index // 7) % len(PATIENT_TEXTS)],
        }
        out.append((validator.compute_signature(url, params), urlencode(params)))
    return out


def _lua_table(bodies: list[tuple[str, str]]) -> str:
    def quote(text: str) -> str:
        return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal

    rows = ",\n".join(f"{{{quote(sig)}, {quote(body)}}}" for sig, body in bodies)
    return f"return {{\n{rows}\n}}\n"


def wrk_run(
    base: str, path: str, bodies: list[tuple[str, str]], *, clients: int, seconds: float
) -> dict[str, Any]:
    threads = min(clients, 2)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "cycle.lua"
        data = Path(tmp) / "bodies.lua"
        script.write_text(WRK_LUA)
        data.write_text(_lua_table(bodies))
        result = subprocess.run(  # noqa: S603 -- our own tools, fixed arguments
            [  # noqa: S607 -- psql/wrk from PATH, as in .ci/run
                "wrk",
                f"-t{threads}",
                f"-c{clients}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base + path,
                "--",
                str(threads),
            ],
            env={
                **os.environ,
                "BENCH_BODIES": str(data),
                "BENCH_PATH": path,
                "BENCH_CYCLE": "1" if path == BARE_PATH else "0",
            },
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    for line in result.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            parsed: dict[str, Any] = json.loads(line.removeprefix("BENCHJSON "))
            return parsed
    raise SystemExit(f"wrk gave no figures:\n{result.stdout}\n{result.stderr}")


async def _httpx_load(
    base: str, path: str, bodies: list[tuple[str, str]], *, clients: int, seconds: float
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    queue = iter(bodies)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for signature, body in queue:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                response = await client.post(
                    base + path,
                    content=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                )
                if response.status_code >= 400:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e6)

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": pct(50),
        "p99_us": pct(99),
        "mean_us": statistics.fmean(latencies) * 1e6 if latencies else 0,
        "errors_status": errors,
        "pool": len(bodies),
    }


def load(
    base: str,
    path: str,
    bodies: list[tuple[str, str]],
    *,
    name: str,
    clients: int,
    seconds: float,
) -> LoadResult:
    if shutil.which("wrk"):
        raw, generator = wrk_run(base, path, bodies, clients=clients, seconds=seconds), "wrk"
    else:
        raw = asyncio.run(_httpx_load(base, path, bodies, clients=clients, seconds=seconds))
        generator = "httpx"
    errors = sum(int(v) for k, v in raw.items() if k.startswith("errors_"))
    elapsed = raw["duration_us"] / 1e6
    return LoadResult(
        name=name,
        clients=clients,
        requests=int(raw["requests"]),
        seconds=round(elapsed, 2),
        rps=round(raw["requests"] / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(raw["p50_us"] / 1000, 2),
        p99_ms=round(raw["p99_us"] / 1000, 2),
        errors=errors,
        generator=generator,
    )


def outcomes_since(db: str, since_id: int) -> dict[str, int]:
    """What became of the inbound texts stored after message id `since_id` (as the owner)."""
    rows = env.psql(
        "SELECT coalesce(nullif(outcome, ''), 'none'), count(*) FROM conversations_message "  # noqa: S608 -- bench-owned names and integers, no user input
        f"WHERE id > {since_id} AND role = 'user' GROUP BY 1 ORDER BY 2 DESC",
        db=db,
        role=env.OWNER_ROLE,
    )
    out: dict[str, int] = {}
    for line in rows.splitlines():
        outcome, count = line.split("|")
        out[outcome] = int(count)
    return out


def fallback_reasons_since(db: str, since_id: int) -> dict[str, int]:
    rows = env.psql(
        "SELECT coalesce(metadata->>'engine', '-') || ' fell_back=' || "  # noqa: S608 -- bench-owned names and integers, no user input
        "fell_back::text, count(*) FROM conversations_message "
        f"WHERE id > {since_id} AND role = 'assistant' GROUP BY 1 ORDER BY 2 DESC",
        db=db,
        role=env.OWNER_ROLE,
    )
    return {line.split("|")[0]: int(line.split("|")[1]) for line in rows.splitlines()}


def last_message_id(db: str) -> int:
    return int(
        env.psql(
            "SELECT coalesce(max(id), 0) FROM conversations_message", db=db, role=env.OWNER_ROLE
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--db", default=env.DB_SMALL)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    results: list[LoadResult] = []
    notes: list[str] = []
    with gunicorn(args.db, workers=args.workers) as base:
        url = base + WEBHOOK_PATH
        offset = 0
        # Warm up both workers (imports, connections, first queries) before measuring.
        warm = signed_bodies(url, count=200, offset=10_000_000)
        load(base, WEBHOOK_PATH, warm, name="warmup", clients=4, seconds=2)
        load(base, BARE_PATH, warm, name="warmup", clients=4, seconds=1)
        for clients in levels:
            bare = load(base, BARE_PATH, warm, name="bare", clients=clients, seconds=args.seconds)
            results.append(bare)
            pool = max(2000, int(args.seconds * 3000))
            bodies = signed_bodies(url, count=pool, offset=offset)
            offset += pool
            # Statistics as autovacuum keeps them in a running system (it analyzes a growing
            # table within a minute; a 5 s run on a fresh database would plan on an empty one).
            env.psql("ANALYZE", db=args.db)
            before = last_message_id(args.db)
            full = load(
                base, WEBHOOK_PATH, bodies, name="full", clients=clients, seconds=args.seconds
            )
            full.outcomes = outcomes_since(args.db, before)
            replies = fallback_reasons_since(args.db, before)
            if any("fell_back=true" in key for key in replies):
                notes.append(f"{clients} clients: replies {replies}")
            if full.requests >= pool:
                notes.append(f"{clients} clients: the {pool} prepared bodies ran out")
            results.append(full)
    env.json_write(
        args.json_out,
        {
            "results": [asdict(r) for r in results],
            "notes": notes,
            "workers": args.workers,
            "seconds": args.seconds,
        },
    )


if __name__ == "__main__":
    main()
