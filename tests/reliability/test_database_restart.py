"""The database goes away under a running server and comes back.

The test owns everything it breaks: a PostgreSQL cluster of its own in a temp dir (initdb/pg_ctl,
on a free port), migrated and loaded with the demo clinics, and a real gunicorn serving the app
as the restricted role with persistent connections. While signed texts keep coming, the cluster
is stopped and started again. Requests in the outage must fail fast with a 5xx (Twilio retries)
or succeed; after recovery the same server answers; every 200 has its messages in the database.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from sms.twilio import twiml_messages
from tests.reliability.conftest import BARTON_NUMBER, HARBOR_NUMBER
from tests.twilio_helpers import TEST_TOKEN, http_signed_post, twilio_payload

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
DATABASE = "lexi_restart"
# connect_timeout is 3 s (settings); a request in the outage may meet it once or twice.
FAIL_FAST_SECONDS = 8.0
REQUEST_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster; `run` executes its binaries as a non-root user."""

    bin_dir: Path
    directory: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def run(self, program: str, *args: str, timeout: float = 60) -> str:
        command = [*self.as_user, str(self.bin_dir / program), *args]
        done = subprocess.run(  # noqa: S603 -- our own fixed binaries and arguments
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-o", options,
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self.run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
            "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement,
        )  # fmt: skip

    def url(self, role: str) -> str:
        return f"postgres://{role}@127.0.0.1:{self.port}/{DATABASE}"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not PG_BIN_DIRS:
        reason = "needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="lexi-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(directory, user="postgres", group="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    instance = Cluster(PG_BIN_DIRS[0], directory, _free_port(), as_user)
    try:
        instance.run(
            "initdb", "-D", str(instance.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        instance.start()
        instance.sql((ROOT / ".ci" / "roles.sql").read_text())
        instance.sql(f"CREATE DATABASE {DATABASE} OWNER lexi_owner")
        yield instance
    finally:
        with_pid = instance.data / "postmaster.pid"
        if with_pid.exists():
            subprocess.run(  # noqa: S603 -- best effort: never leave a cluster running
                [*as_user, str(instance.bin_dir / "pg_ctl"), "-D", str(instance.data),
                 "-m", "immediate", "-w", "-t", "30", "stop"],
                capture_output=True, timeout=40, check=False,
            )  # fmt: skip
        shutil.rmtree(directory, ignore_errors=True)


def _environment(cluster: Cluster, role: str, base_url: str) -> dict[str, str]:
    keep = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    return {
        **keep,
        "DATABASE_URL": cluster.url(role),
        "DATABASE_APP_ROLE": "lexi_app",
        "CONN_MAX_AGE": "600",  # persistent connections: they must survive the restart
        "SECRET_KEY": "reliability-test-secret-key",
        "DEBUG": "False",
        "STATIC_MANIFEST": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "TWILIO_ACCOUNT_SID": "",
        "PUBLIC_BASE_URL": base_url,
        "LEXI_ENGINE": "offline",
        "OPENAI_API_KEY": "",
        "LEXI_SENDER_LIMIT_PER_MINUTE": "1000",
        # A retry waits this long (+2 s) for a first attempt that may still be answering.
        "LEXI_TURN_DEADLINE_SECONDS": "2",
        "LEXI_DEFAULT_ORGANIZATION": "",
        "LOG_LEVEL": "WARNING",
    }


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 -- manage.py of this project
        [sys.executable, "manage.py", *args, "--verbosity", "0"],
        cwd=ROOT, env=env, check=True, timeout=180, capture_output=True,
    )  # fmt: skip


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def server(cluster: Cluster) -> Iterator[Server]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    _manage(_environment(cluster, "lexi_owner", base_url), "migrate")
    _manage(_environment(cluster, "lexi_owner", base_url), "loaddata", "demo")
    log = cluster.directory / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 -- gunicorn from this venv
            [sys.executable, "-m", "gunicorn", "lexi.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--timeout", "30", "--graceful-timeout", "5"],
            cwd=ROOT, env=_environment(cluster, "lexi_app", base_url),
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    instance = Server(base_url, process, log)
    try:
        _wait_until_healthy(instance)
        yield instance
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _wait_until_healthy(server: Server, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn never became healthy: {server.log.read_text()[-3000:]}")


@dataclass
class Attempt:
    params: dict[str, str]
    status: int  # 0: no HTTP answer at all
    seconds: float
    replies: list[str] = field(default_factory=list)
    phase: str = ""


def _text(number: int) -> dict[str, str]:
    to = BARTON_NUMBER if number % 2 else HARBOR_NUMBER
    return twilio_payload(
        From=f"+1619555{number % 7:04d}",
        To=to,
        Body=f"what are your hours? (restart text {number})",
    )


def _send(server: Server, http: httpx.Client, number: int, phase: str) -> Attempt:
    return _post(server, http, _text(number), phase)


def _post(server: Server, http: httpx.Client, params: dict[str, str], phase: str) -> Attempt:
    started = time.monotonic()
    try:
        response = http_signed_post(http, server.base_url, params)
    except httpx.HTTPError:
        return Attempt(params, 0, time.monotonic() - started, phase=phase)
    replies = twiml_messages(response.text) if response.status_code == 200 else []
    return Attempt(params, response.status_code, time.monotonic() - started, replies, phase)


class Sender(threading.Thread):
    """Keeps texting until stopped, each attempt tagged with the phase it started in."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.phase = "before"
        self.attempts: list[Attempt] = []
        self.counter = 1000
        self._stop_event = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            while not self._stop_event.is_set():
                self.counter += 1
                self.attempts.append(_send(self.server, http, self.counter, self.phase))
                time.sleep(0.05)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=REQUEST_TIMEOUT + 5)


def _stored(cluster: Cluster, attempts: list[Attempt]) -> dict[str, tuple[str, list[str]]]:
    """What the database holds per MessageSid: the inbound text and the replies to it."""
    sids = ",".join(f"'{a.params['MessageSid']}'" for a in attempts)  # our own hex ids
    # psql -c takes no bind parameters; every interpolated value was generated by this test.
    query = (
        "SELECT m.provider_message_id, m.content, coalesce(string_agg(r.content, '\x1f'), '') "  # noqa: S608
        "FROM conversations_message m LEFT JOIN conversations_message r "
        "ON r.role = 'assistant' AND r.in_reply_to_id = m.id "
        f"WHERE m.role = 'user' AND m.provider_message_id IN ({sids}) "
        "GROUP BY m.provider_message_id, m.content"
    )
    rows = cluster.sql(query, database=DATABASE)
    stored: dict[str, tuple[str, list[str]]] = {}
    for line in rows.splitlines():
        sid, content, replies = line.split("|", 2)
        stored[sid] = (content, [r for r in replies.split("\x1f") if r])
    return stored


def test_database_restart_fails_fast_then_recovers_without_losing_an_answered_text(
    cluster, server, figures
):
    with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
        before = [_send(server, http, n, "before") for n in range(6)]
    assert [a.status for a in before] == [200] * 6

    sender = Sender(server)
    sender.start()
    try:
        time.sleep(1.0)
        sender.phase = "outage"
        cluster.stop()
        figures.add("faults")
        time.sleep(4.0)
        sender.phase = "restarting"
        cluster.start()
        time.sleep(1.5)
        sender.phase = "after"
        time.sleep(1.0)
    finally:
        sender.stop()

    failed = [a for a in sender.attempts if a.status != 200]
    with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
        recovered = [_send(server, http, 2000 + n, "recovered") for n in range(10)]
        # Twilio retries what got a 5xx, with the same MessageSid: each must now be answered.
        retried = [_post(server, http, a.params, "retried") for a in failed]
    assert server.process.poll() is None, "the server died"
    attempts = before + sender.attempts + recovered + retried
    figures.add("requests", len(attempts))

    outage = [a for a in sender.attempts if a.phase == "outage"]
    assert outage, "no request was sent while the database was down"
    assert any(a.status >= 500 for a in outage), "the outage was never noticed"
    for attempt in attempts:
        assert attempt.status == 200 or 500 <= attempt.status < 600, attempt
        assert attempt.status != 0, f"no HTTP answer: {attempt}"
        if attempt.status != 200:
            assert attempt.seconds < FAIL_FAST_SECONDS, attempt
    assert [a.status for a in recovered] == [200] * 10, "the server did not recover by itself"
    assert [a.status for a in retried] == [200] * len(retried)
    assert all(a.replies for a in retried), "a retried text got no answer"

    answered = [a for a in attempts if a.status == 200]
    stored = _stored(cluster, answered)
    lost = 0
    for attempt in answered:
        content, replies = stored.get(attempt.params["MessageSid"], ("", []))
        if content != attempt.params["Body"] or replies != attempt.replies:
            lost += 1
    figures.add("server_errors", sum(a.status == 500 for a in attempts))
    figures.add("stored", len(answered) - lost)
    figures.add("lost", lost)
    assert lost == 0, [
        (a.phase, a.params["Body"], a.replies, stored.get(a.params["MessageSid"]))
        for a in answered
        if stored.get(a.params["MessageSid"], ("", []))[1] != a.replies
    ]
