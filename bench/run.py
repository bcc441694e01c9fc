"""`make bench`: Lexi's own machinery (the LLM aside) measured on loopback, one table a section.

    .venv/bin/python bench/run.py          # everything (~2-3 minutes; the first run seeds 1M rows)
    .venv/bin/python bench/run.py --quick  # smaller sizes, shorter loads (~1 minute)
    .venv/bin/python bench/run.py --only webhook,turns

Needs the local PostgreSQL (as in .ci/run) and, for the load generator, Debian's `wrk`
(`apt-get install wrk`; without it an asyncio httpx client is used and the bare ceiling is
the client's, not the server's). Databases: lexi_bench (recreated every run) and
lexi_bench_scale (seeded by `manage.py bench_seed`, kept while its row counts match).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import env  # after the path fix: `make bench` runs this file as a script

SECTIONS = ("webhook", "turns", "admin", "availability", "outbound", "voice")
TARGETS = {
    "ratio": 0.08,
    "p99_8_ms": 40.0,
    "statements_per_turn": 10,
    "statements_per_booking_turn": 12,
    "round_trips_per_turn": 10,
    "changelist_ms": 300.0,
    "changelist_queries": 10,
    "search_ms": 300.0,
    "availability_ms": 50.0,
    "ack_ratio": 0.25,
    "ack_p99_ms": 20.0,
    "send_over_debounce_ms": 300.0,
    "voice_p50_ms": 30.0,
    "voice_p99_ms": 150.0,
}


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        ram = "?"
    try:
        pg = env.psql("SHOW server_version")
    except (subprocess.CalledProcessError, FileNotFoundError):
        pg = "?"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "postgresql": pg,
        "python": platform.python_version(),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "wrk": "yes" if shutil.which("wrk") else "no (httpx client)",
    }


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print(f"\n## {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def section_failed(data: dict[str, Any], heading: str, key: str, misses: list[str]) -> bool:
    """Print and count a section that did not run (its JSON holds only an error)."""
    if "error" not in data:
        return False
    print(f"\n## {heading}\n\n{data['error']}")
    misses.append(f"{key}: {data['error']}")
    return True


def report_webhook(data: dict[str, Any], misses: list[str]) -> None:
    if section_failed(data, "1. Webhook", "webhook", misses):
        return
    results = data["results"]
    rows = []
    for clients in sorted({r["clients"] for r in results}):
        bare = next(r for r in results if r["clients"] == clients and r["name"] == "bare")
        full = next(r for r in results if r["clients"] == clients and r["name"] == "full")
        ratio = full["rps"] / bare["rps"] if bare["rps"] else 0.0
        answered = full["outcomes"].get("answered", 0)
        stored = sum(full["outcomes"].values())
        rows.append(
            [
                clients,
                bare["rps"],
                f"{bare['p50_ms']} / {bare['p99_ms']}",
                full["rps"],
                f"{full['p50_ms']} / {full['p99_ms']}",
                f"{ratio:.1%} {mark(ratio >= TARGETS['ratio'])}",
                f"{answered}/{stored}",
                full["errors"] + bare["errors"],
            ]
        )
        if ratio < TARGETS["ratio"]:
            target = f"target >= {TARGETS['ratio']:.0%}"
            misses.append(f"webhook: full/bare {ratio:.1%} at {clients} clients ({target})")
        if clients == 8 and full["p99_ms"] > TARGETS["p99_8_ms"]:
            misses.append(f"webhook: p99 {full['p99_ms']} ms at 8 clients (target <= 40 ms)")
    table(
        f"1. Webhook under gunicorn ({data['workers']} workers, {data['seconds']} s a run, "
        f"{results[0]['generator']})",
        [
            "clients",
            "bare req/s",
            "bare p50/p99 ms",
            "turn req/s",
            "turn p50/p99 ms",
            "turn/bare",
            "answered by Lexi",
            "errors",
        ],
        rows,
    )
    for note in data.get("notes", []):
        print(f"  note: {note}")


def report_turns(data: dict[str, Any], misses: list[str]) -> None:
    if section_failed(data, "2. Per-turn cost", "turns", misses):
        return
    rows = []
    for r in data["cost"]:
        ok = (
            r["queries_median"] <= TARGETS["statements_per_turn"]
            and r["queries_max"] <= TARGETS["statements_per_booking_turn"]
        )
        trips_ok = r["round_trips_median"] <= TARGETS["round_trips_per_turn"]
        rows.append(
            [
                r["history"],
                r["clinic"],
                f"{r['queries_median']:g} (max {r['queries_max']}) {mark(ok)}",
                f"{r['set_config_median']:g}",
                f"{r['commits_median']:g}",
                f"{r['round_trips_median']:g} (max {r['round_trips_max']}) {mark(trips_ok)}",
                r["cpu_ms_median"],
                r["ms_median"],
                ", ".join(r["engines"]),
            ]
        )
    table(
        "2. Per-turn cost vs history (webhook view in process, offline engine)",
        [
            "history",
            "clinic",
            "SQL statements",
            "set_config",
            "commits",
            "round trips",
            "CPU ms (Python)",
            "ms median",
            "engine",
        ],
        rows,
    )
    worst = max(r["queries_max"] for r in data["cost"])
    usual = max(r["queries_median"] for r in data["cost"])
    trips = max(r["round_trips_median"] for r in data["cost"])
    counts = {r["queries_median"] for r in data["cost"]}
    if usual > TARGETS["statements_per_turn"] or worst > TARGETS["statements_per_booking_turn"]:
        misses.append(
            f"turns: {usual:g} SQL statements per turn, up to {worst} (target <= "
            f"{TARGETS['statements_per_turn']}, "
            f"booking <= {TARGETS['statements_per_booking_turn']})"
        )
    if trips > TARGETS["round_trips_per_turn"]:
        misses.append(
            f"turns: {trips:g} round trips per turn (target <= {TARGETS['round_trips_per_turn']})"
        )
    if len(counts) > 1:
        misses.append(f"turns: statements per turn vary with history: {sorted(counts)}")
    cpu = data.get("cpu", {})
    if "error" in cpu:
        print(f"\n  CPU per turn: {cpu['error']}")
    elif cpu:
        print(
            f"\n  CPU per turn over {cpu['turns']} texts of section 1's mix (new and returning "
            f"patients): {cpu['python_cpu_ms']} ms in the Django process, "
            f"{cpu['database_cpu_ms']} ms in its PostgreSQL backend."
        )
    sql: list[str] = next((r["sql"] for r in data["cost"] if r["sql"]), [])
    if sql:
        print("\n  One turn's statements (longest history):")
        for index, statement in enumerate(s for s in sql if s not in ("BEGIN", "COMMIT")):
            print(f"    {index + 1:2}. {statement[:110]}")
    prompt = data.get("prompt", {})
    if "error" in prompt:
        print(f"\n## 3. Prompt size\n\n{prompt['error']}")
        return
    if not prompt:
        return
    table(
        f"3. Prompt size vs history (requests the scripted OpenAI server received; "
        f"tokens = {prompt['counter']})",
        ["history", "requests/turn", "tokens median", "tokens max", "chat messages", "engine"],
        [
            [
                r["history"],
                f"{r['requests_per_turn']:g}",
                f"{r['tokens_median']:g}",
                r["tokens_max"],
                f"{r['messages_median']:g}",
                ", ".join(r["engines"]),
            ]
            for r in prompt["rows"]
        ],
    )
    rows_by_length = {r["history"]: r["tokens_max"] for r in prompt["rows"]}
    if {100, 1000} <= set(rows_by_length) and rows_by_length[1000] > rows_by_length[100] * 1.1:
        misses.append("prompt: tokens grow past a history of 100 messages")


def report_admin(data: dict[str, Any], misses: list[str]) -> None:
    if section_failed(data, "4. Admin at scale", "admin", misses):
        return
    sizes = data["sizes"]
    rows = []
    for r in data["rows"]:
        if "error" in r:
            rows.append([r["who"], r["page"], r["error"], "", ""])
            misses.append(f"admin: {r['who']} {r['page']}: {r['error']}")
            continue
        search = "search" in r["page"]
        limit = TARGETS["search_ms"] if search else TARGETS["changelist_ms"]
        ok = r["ms_median"] <= limit and (
            r["page"] == "conversation detail" or r["queries"] <= TARGETS["changelist_queries"]
        )
        rows.append([r["who"], r["page"], r["ms_median"], r["queries"], mark(ok)])
        if not ok:
            slow = r["slowest"][0] if r.get("slowest") else (0, "")
            misses.append(
                f"admin: {r['who']}, {r['page']}: {r['ms_median']} ms, {r['queries']} queries "
                f"(slowest statement {slow[0]:.0f} ms: {slow[1][:90]}...)"
            )
    table(
        f"4. Admin at scale ({sizes['conversations']:,} conversations, "
        f"{sizes['messages']:,} messages; in process)",
        ["user", "page", "ms median", "SQL statements", "target"],
        rows,
    )


def report_availability(data: dict[str, Any], misses: list[str]) -> None:
    if section_failed(data, "5. Availability", "availability", misses):
        return
    rows = []
    for r in data["rows"]:
        ok = r["ms_median"] <= TARGETS["availability_ms"]
        rows.append(
            [
                r["search"],
                r["appointments_in_range"],
                r["slots"],
                r["ms_median"],
                r["queries"],
                mark(ok),
            ]
        )
        if not ok:
            misses.append(f"availability: {r['search']} {r['ms_median']} ms (target <= 50 ms)")
    table(
        f"5. slots_available over 14 days ({data['appointments']:,} appointments booked)",
        ["search", "appointments in range", "slots", "ms median", "SQL statements", "target"],
        rows,
    )


def report_outbound(data: dict[str, Any], misses: list[str]) -> None:
    if section_failed(data, "6. Outbound", "outbound", misses):
        return
    bare, queued = data["ack"]["bare"], data["ack"]["queued"]
    ratio = queued["rps"] / bare["rps"] if bare["rps"] else 0.0
    ack_ok = ratio >= TARGETS["ack_ratio"] and queued["p99_ms"] <= TARGETS["ack_p99_ms"]
    rows = [
        [
            f"webhook acknowledgement, queued mode, {queued['clients']} clients",
            f"{queued['rps']} req/s = {ratio:.1%} of bare ({bare['rps']}); "
            f"p50/p99 {queued['p50_ms']} / {queued['p99_ms']} ms",
            ">= 25 %, p99 <= 20 ms",
            mark(ack_ok),
        ]
    ]
    if not ack_ok:
        misses.append(
            f"outbound: acknowledgement {ratio:.1%} of bare, p99 {queued['p99_ms']} ms "
            "(target >= 25 %, <= 20 ms)"
        )
    for run in data["latency"]:
        if "error" in run:
            rows.append(["text in -> REST send out", run["error"], "", "MISS"])
            misses.append(f"outbound: {run['error']}")
            continue
        limit = run["debounce_s"] * 1000 + TARGETS["send_over_debounce_ms"]
        ok = run["complete"] and run["p50_ms"] is not None and run["p50_ms"] <= limit
        rows.append(
            [
                f"text in -> REST send out, debounce {run['debounce_s']:g} s",
                f"p50 {run['p50_ms']} ms, max {run['max_ms']} ms "
                f"({run['answered']}/{run['texts']} sent)",
                f"p50 <= {limit:.0f} ms",
                mark(ok),
            ]
        )
        if not ok:
            misses.append(f"outbound: text to send p50 {run['p50_ms']} ms (target <= {limit:.0f})")
    for run in data["throughput"]:
        rows.append(
            [
                f"worker throughput, {run['workers']} db_worker(s)",
                run.get("error")
                or f"{run['turns_per_s']} turns/s ({run['answered']}/{run['texts']} texts "
                f"answered and sent in {run['seconds']} s)",
                "report",
                "ok" if run.get("complete") else "MISS",
            ]
        )
    burst = data["burst"]
    burst_ok = burst["model_requests"] == 1 and burst["texts_sent"] == 1
    rows.append(
        [
            f"a burst of {burst['texts']} texts within a second (model engine)",
            f"{burst['model_requests']} model request(s), {burst['texts_sent']} text(s) sent",
            "1 request",
            mark(burst_ok),
        ]
    )
    if not burst_ok:
        misses.append(f"outbound: a burst got {burst['model_requests']} model requests")
    table(
        "6. Outbound: queued replies, the task worker and REST sends (local Twilio)",
        ["measure", "figure", "target", ""],
        rows,
    )


def report_voice(data: dict[str, Any], misses: list[str]) -> None:
    if section_failed(data, "7. Voice", "voice", misses):
        return
    rows = []
    for r in data["results"]:
        target = ""
        if r["name"].startswith("voice-turn") and r["clients"] == 8:
            ok = r["p50_ms"] <= TARGETS["voice_p50_ms"] and r["p99_ms"] <= TARGETS["voice_p99_ms"]
            target = f"p50 <= 30, p99 <= 150 ms {mark(ok)}"
            if not ok:
                misses.append(
                    f"voice: voice-turn p50/p99 {r['p50_ms']} / {r['p99_ms']} ms at 8 clients "
                    "(target <= 30 / 150 ms)"
                )
        rows.append(
            [
                r["name"],
                r["clients"],
                r["rps"],
                f"{r['p50_ms']} / {r['p99_ms']}",
                r["errors"],
                target,
            ]
        )
    table(
        f"7. Voice under gunicorn (offline engine, {data['seconds']} s a run, a new call each)",
        ["request", "clients", "req/s", "p50 / p99 ms", "errors", "target"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--seconds", type=float, help="seconds per load run (default 5; quick 2)")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    conversations, messages = (10_000, 100_000) if args.quick else (100_000, 1_000_000)

    started = time.monotonic()
    info = machine()
    print("# Lexi bench" + (" (quick)" if args.quick else ""))
    print(
        f"\n{info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM, PostgreSQL "
        f"{info['postgresql']}, Python {info['python']}, load average {info['load_average']}, "
        f"wrk: {info['wrk']}"
    )
    if os.getloadavg()[0] > 0.5:
        print("  warning: the machine is busy; figures will be lower and noisier than idle.")

    env.database_prepare(env.DB_SMALL, fresh=True)
    results: dict[str, Any] = {"machine": info, "quick": args.quick}
    misses: list[str] = []
    if "webhook" in only:
        results["webhook"] = env.section_run(
            "webhook", env.DB_SMALL, "--db", env.DB_SMALL, "--seconds", str(seconds)
        )
        report_webhook(results["webhook"], misses)
    if "turns" in only:
        lengths = "1,10,100" if args.quick else "1,10,100,1000"
        turns = "4" if args.quick else "6"
        cpu_turns = "200" if args.quick else "600"
        results["turns"] = env.section_run(
            "turns",
            env.DB_SMALL,
            "--lengths",
            lengths,
            "--turns",
            turns,
            "--cpu-turns",
            cpu_turns,
        )
        report_turns(results["turns"], misses)
    if "admin" in only:
        env.database_prepare(env.DB_SCALE, fresh=False)
        print(f"\n(seeding {env.DB_SCALE} if needed: {conversations:,} / {messages:,})")
        print(
            env.manage(
                env.DB_SCALE,
                "bench_seed",
                "--conversations",
                str(conversations),
                "--messages",
                str(messages),
            ).strip()
        )
        results["admin"] = env.section_run(
            "admin_scale", env.DB_SCALE, "--repeats", "3" if args.quick else "5"
        )
        report_admin(results["admin"], misses)
    if "availability" in only:
        results["availability"] = env.section_run(
            "availability", env.DB_SMALL, "--appointments", "2000" if args.quick else "5000"
        )
        report_availability(results["availability"], misses)

    if "outbound" in only:
        results["outbound"] = env.section_run("outbound", env.DB_SMALL, "--seconds", str(seconds))
        report_outbound(results["outbound"], misses)

    if "voice" in only:
        results["voice"] = env.section_run("voice", env.DB_SMALL, "--seconds", str(seconds))
        report_voice(results["voice"], misses)

    print("\n## Targets missed\n")
    for miss in misses or ["none"]:
        print(f"- {miss}")
    out = env.ROOT / "bench" / ".out" / "results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\n{time.monotonic() - started:.0f} s; figures in {out.relative_to(env.ROOT)}")


if __name__ == "__main__":
    main()
