"""A scripted OpenAI-compatible server on 127.0.0.1, for tests of the OpenAI engine.

It serves POST /v1/chat/completions, records every request body, and answers from a script:
a queue of responses, each a completion dict, a `Respond` (status, headers, delay, raw body),
or a callable `(request_body, server) -> response` that can read back earlier tool results.
When the queue is empty it answers with `server.default` (a 500 unless set).

    def test_x(openai_server):
        openai_server.push(tool_calls_completion([tool_call("find_patient", {})]))
        openai_server.push(text_completion("Hi!"))
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any

from tests.local_server import LocalServer

__all__ = [
    "Respond",
    "ScriptedOpenAI",
    "last_tool_result",
    "text_completion",
    "tool_call",
    "tool_calls_completion",
    "tool_results",
]

_ids = count(1)


@dataclass
class Respond:
    """A raw answer: any status, headers, a delay before answering, a body (dict or bytes)."""

    status: int = 200
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Response = dict[str, Any] | Respond | Callable[[dict[str, Any], "ScriptedOpenAI"], Any]


def _usage(prompt: int = 100, completion: int = 20, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def text_completion(text: str, *, model: str = "gpt-test", **usage: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
            }
        ],
        "usage": _usage(**usage),
    }


def tool_call(name: str, arguments: dict[str, Any] | str, *, call_id: str = "") -> dict[str, Any]:
    """One tool call; `arguments` as a dict, or a raw (possibly malformed) JSON string."""
    return {
        "id": call_id or f"call_{next(_ids)}",
        "type": "function",
        "function": {
            "name": name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
        },
    }


def tool_calls_completion(
    calls: list[dict[str, Any]], *, model: str = "gpt-test", **usage: int
) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": calls},
            }
        ],
        "usage": _usage(**usage),
    }


def tool_results(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tool results in a request's messages, by tool_call_id (content parsed as JSON)."""
    out: dict[str, dict[str, Any]] = {}
    for message in request.get("messages", []):
        if message.get("role") == "tool":
            try:
                out[message["tool_call_id"]] = json.loads(message["content"])
            except (ValueError, TypeError):
                out[message["tool_call_id"]] = {"_raw": message.get("content")}
    return out


def last_tool_result(request: dict[str, Any]) -> dict[str, Any]:
    """The content of the last tool message in the request (what the last tool returned)."""
    results = [m for m in request.get("messages", []) if m.get("role") == "tool"]
    if not results:
        raise AssertionError("the request carries no tool result")
    return json.loads(results[-1]["content"])


class ScriptedOpenAI(LocalServer):
    """The server. `requests` holds every request body received, in order."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: deque[Response] = deque()
        self.default: Response = Respond(
            status=500, body={"error": {"message": "script exhausted", "type": "server_error"}}
        )
        self._lock = threading.Lock()
        super().__init__()

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def push(self, *responses: Response) -> None:
        self.script.extend(responses)

    def always(self, response: Response) -> None:
        """Answer every request from now on with `response` (once the queue is empty)."""
        self.default = response

    def _next(self, body: dict[str, Any]) -> Respond:
        with self._lock:
            self.requests.append(body)
            response: Any = self.script.popleft() if self.script else self.default
        while callable(response):
            response = response(body, self)
        if isinstance(response, Respond):
            return response
        return Respond(status=200, body=response)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(Respond(status=404, body={"error": {"message": "not found"}}))
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                self._send(server._next(body))

            def _send(self, response: Respond) -> None:
                if response.delay:
                    time.sleep(response.delay)
                payload = (
                    response.body
                    if isinstance(response.body, bytes)
                    else json.dumps(response.body or {}).encode()
                )
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

        return Handler
