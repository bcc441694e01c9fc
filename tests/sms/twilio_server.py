"""A local server speaking Twilio's Messages REST API on 127.0.0.1, for the real twilio SDK.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth (the account SID and
its auth token) answers 201 and a message resource, as Twilio does. `sent` records every text
it accepted; `requests` every request. A script of faults is answered first, in order:
`Fault(status=429)`, `Fault(status=500)`, `Fault(delay=3)`, `Fault(body=b"<html>")`, or a
Twilio error `Fault(status=400, code=21610)`.

    def test_x(twilio_server):
        twilio_server.push(Fault(status=429), Fault(status=500))
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.local_server import LocalServer

__all__ = ["FakeTwilio", "Fault"]

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")


@dataclass
class Fault:
    status: int = 500
    code: int | None = None
    delay: float = 0.0
    body: bytes | None = None  # raw body instead of Twilio's JSON
    accept: bool = False  # the text is taken (and counted as sent) before the fault


class FakeTwilio(LocalServer):
    def __init__(self, *, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[dict[str, str]] = []
        self.sent: list[dict[str, str]] = []
        self.script: deque[Fault] = deque()
        self._lock = threading.Lock()
        super().__init__()

    @property
    def base_url(self) -> str:
        return self.origin

    def push(self, *faults: Fault) -> None:
        self.script.extend(faults)

    def _authorized(self, header: str, account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account == self.account_sid and header == f"Basic {expected}"

    def _answer(self, form: dict[str, str]) -> tuple[int, bytes, float]:
        with self._lock:
            self.requests.append(form)
            fault = self.script.popleft() if self.script else None
            if fault is None or fault.accept:
                resource = self._accept(form)
        if fault is None:
            return 201, json.dumps(resource).encode(), 0.0
        if fault.body is not None:
            return fault.status, fault.body, fault.delay
        if fault.accept:
            return 201, json.dumps(resource).encode(), fault.delay
        error = {
            "code": fault.code or 20500,
            "message": f"scripted fault {fault.status}",
            "more_info": f"https://www.twilio.com/docs/errors/{fault.code or 20500}",
            "status": fault.status,
        }
        return fault.status, json.dumps(error).encode(), fault.delay

    def _accept(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        self.sent.append({**form, "Sid": sid})
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "from": form.get("From"),
            "to": form.get("To"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                match = MESSAGES_PATH.match(self.path)
                if match is None:
                    self._send(404, b'{"code": 20404, "message": "not found", "status": 404}')
                    return
                if not server._authorized(self.headers.get("Authorization", ""), match["account"]):
                    self._send(401, b'{"code": 20003, "message": "Authenticate", "status": 401}')
                    return
                form = {key: values[-1] for key, values in parse_qs(raw).items()}
                status, body, delay = server._answer(form)
                if delay:
                    time.sleep(delay)
                self._send(status, body)

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
