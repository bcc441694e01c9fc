"""Section 7: voice — how fast a call is answered and each spoken turn gets its TwiML.

gunicorn (2 sync workers, offline engine, as lexi_app) as in section 1. `incoming-call` opens
a fresh call per request (every request a new CallSid); `voice-turn` then answers the first
spoken turn of each of those calls, so every turn is a real one (stored, Lexi's turn, TwiML),
never a replay. Load from `wrk` with pre-signed bodies, like the SMS webhook.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from bench import env
from bench.webhook import gunicorn, load

INCOMING_PATH = "/api/twilio/incoming-call"
TURN_PATH = "/api/twilio/voice-turn?turn=1"
CALLERS = 4000
PACED_CALLERS = 8
PACED_GAP_SECONDS = 1.0  # each caller speaks a turn a second: faster than people talk
SAID = ("what are your hours", "where are you located", "I'd like to book a cleaning")


def call_bodies(base: str, path: str, sids: list[str], *, speech: bool) -> list[tuple[str, str]]:
    """Signed (signature, body) pairs for `path`, one per call, callers over both clinics."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(env.TWILIO_TOKEN)
    out = []
    for index, sid in enumerate(sids):
        clinic = index % len(env.DEMO_NUMBERS)
        params = {
            "CallSid": sid,
            "AccountSid": env.TWILIO_ACCOUNT_SID,
            "From": f"+1415{3000000 + index % CALLERS}",
            "To": env.DEMO_NUMBERS[clinic],
            "Direction": "inbound",
            "CallStatus": "in-progress",
        }
        if speech:
            params.update(SpeechResult=SAID[index % len(SAID)], Confidence="0.91")
        out.append((validator.compute_signature(base + path, params), urlencode(params)))
    return out


def paced(base: str, path: str, bodies: list[tuple[str, str]], *, seconds: float) -> dict[str, Any]:
    """PACED_CALLERS callers at once, each sending a turn every PACED_GAP_SECONDS (open loop):
    the latency a caller hears when the server is not saturated by back-to-back requests."""
    import httpx

    latencies: list[float] = []
    chunks = [bodies[i::PACED_CALLERS] for i in range(PACED_CALLERS)]
    lock = threading.Lock()

    def caller(chunk: list[tuple[str, str]]) -> None:
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=10) as http:
            for signature, body in chunk:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                http.post(
                    base + path,
                    content=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                ).raise_for_status()
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed * 1000)
                time.sleep(max(0.0, PACED_GAP_SECONDS - elapsed))

    threads = [threading.Thread(target=caller, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "name": "voice-turn, paced",
        "clients": PACED_CALLERS,
        "requests": len(latencies),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
        "errors": 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--db", default=env.DB_SMALL)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,8")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    pool = max(2000, int(args.seconds * 600))
    with gunicorn(args.db, workers=2) as base:

        def calls(path: str, sids: list[str], *, name: str, clients: int, seconds: float) -> Any:
            """A load of `path` for the calls `sids` (a turn of each says something)."""
            bodies = call_bodies(base, path, sids, speech=path == TURN_PATH)
            return load(base, path, bodies, name=name, clients=clients, seconds=seconds)

        warm = ["CA" + uuid.uuid4().hex for _ in range(200)]
        calls(INCOMING_PATH, warm, name="warmup", clients=4, seconds=1)
        calls(TURN_PATH, warm, name="warmup", clients=4, seconds=1)
        for clients in (int(c) for c in args.clients.split(",")):
            sids = ["CA" + uuid.uuid4().hex for _ in range(pool)]
            incoming = calls(
                INCOMING_PATH, sids, name="incoming-call", clients=clients, seconds=args.seconds
            )
            answered = sids[: incoming.requests]
            turn = calls(
                TURN_PATH, answered, name="voice-turn", clients=clients, seconds=args.seconds
            )
            results += [asdict(incoming), asdict(turn)]
        sids = ["CA" + uuid.uuid4().hex for _ in range(400)]
        calls(INCOMING_PATH, sids, name="incoming-call", clients=4, seconds=args.seconds)
        results.append(
            paced(
                base,
                TURN_PATH,
                call_bodies(base, TURN_PATH, sids, speech=True),
                seconds=max(args.seconds, 10.0),
            )
        )
    env.json_write(args.json_out, {"results": results, "seconds": args.seconds})


if __name__ == "__main__":
    main()
