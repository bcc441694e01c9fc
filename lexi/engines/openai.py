"""The OpenAI engine: chat completions with tool calling, inside a hard deadline.

The SDK's own retries are off (they would sleep past Twilio's 15-second webhook limit); this
module retries rate limits, 5xx and timeouts itself, and only while the wait still fits the
turn's deadline. Any OpenAI-compatible server works (settings.OPENAI_BASE_URL).
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import time
from typing import Any, cast

import openai
from django.conf import settings

from conversations.models import Message
from lexi.context import TurnContext, TurnReply
from lexi.engines.base import EngineFailure
from lexi.history import history_messages
from lexi.prompts import channel_note, reminder_note, system_prompt
from lexi.replies import MAX_REPLY_CHARS
from lexi.tools import TOOL_SCHEMAS, tool_run
from tenants.models import Organization

logger = logging.getLogger(__name__)

__all__ = ["EngineFailure", "OpenAIEngine"]

MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.5
# Below this, a model call cannot finish: fail now and leave the fallback its time.
MIN_CALL_SECONDS = 0.5


@functools.lru_cache(maxsize=8)
def _client(api_key: str, base_url: str | None) -> openai.OpenAI:
    # One client per endpoint: it holds the connection pool, reused across turns.
    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=settings.LEXI_LLM_TIMEOUT_SECONDS,
        max_retries=0,
    )


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it said."""
    headers = exc.response.headers
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    if parsed is None:
        return None
    return max(parsed.timestamp() - time.time(), 0.0)


class OpenAIEngine:
    name: str = Organization.Engine.OPENAI.value
    uses_history = True
    answers_in_transaction = False  # no lock may wait on the network
    falls_back = True

    def __init__(
        self,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.model = model or settings.LEXI_MODEL
        self.api_key = api_key or settings.OPENAI_API_KEY
        self.base_url = base_url or settings.OPENAI_BASE_URL

    def reply(self, *, context: TurnContext, history: list[Message]) -> TurnReply:
        """Answer with tool calls in bounded rounds. Raises EngineFailure; never hangs."""
        deadline = time.monotonic() + (
            context.deadline_seconds or settings.LEXI_TURN_DEADLINE_SECONDS
        )
        client = _client(self.api_key, self.base_url)
        first_message = not any(m.role == Message.Role.ASSISTANT for m in history)
        messages: list[dict[str, Any]] = [
            {
                "role": "system",
                "content": system_prompt(
                    organization=context.organization,
                    now=context.now,
                    first_message=first_message,
                ),
            },
            *history_messages(history=history, token_budget=settings.LEXI_HISTORY_TOKEN_BUDGET),
            *reminder_note(context.reminder_about),
            *channel_note(context.channel),
            {"role": "user", "content": (context.message.content or "")[:MAX_REPLY_CHARS]},
        ]
        usage: dict[str, Any] = {"model": self.model, "rounds": 0}
        try:
            return self._rounds(client, context, messages, usage=usage, deadline=deadline)
        except EngineFailure as exc:
            exc.usage = usage
            raise

    def _rounds(
        self,
        client: openai.OpenAI,
        context: TurnContext,
        messages: list[dict[str, Any]],
        *,
        usage: dict[str, Any],
        deadline: float,
    ) -> TurnReply:
        tool_calls = 0
        max_rounds = max(settings.LEXI_MAX_TOOL_ROUNDS, 1)
        for round_ in range(max_rounds):
            context.round = round_
            last_round = round_ == max_rounds - 1
            completion = self._complete(client, messages, deadline=deadline, last=last_round)
            usage["rounds"] += 1
            _usage_add(usage, completion)
            if not completion.choices:
                raise EngineFailure("empty_response")
            message = completion.choices[0].message
            text = (message.content or "").strip()
            if message.tool_calls and last_round and not text:
                break  # it was told to answer in words; its results would never be read
            if message.tool_calls and not last_round:
                messages.append(_assistant_tool_message(message))
                for call in message.tool_calls:
                    tool_calls += 1
                    function = getattr(call, "function", None)
                    result = tool_run(
                        context=context,
                        name=function.name if function is not None else "",
                        arguments=function.arguments if function is not None else "",
                        call_id=call.id,
                    )
                    messages.append(
                        {
                            "role": "tool",
                            "tool_call_id": call.id,
                            "content": json.dumps(result.as_model_payload(), ensure_ascii=False),
                        }
                    )
                continue
            if not text:
                raise EngineFailure("empty_reply")
            return TurnReply(text=text, engine=self.name, usage=usage, tool_calls=tool_calls)
        raise EngineFailure("tool_rounds_exhausted")

    def _complete(
        self,
        client: openai.OpenAI,
        messages: list[dict[str, Any]],
        *,
        deadline: float,
        last: bool,
    ) -> Any:
        """One model call with retries that respect the deadline."""
        for attempt in range(MAX_ATTEMPTS):
            remaining = deadline - time.monotonic()
            if remaining < MIN_CALL_SECONDS:
                raise EngineFailure("deadline")
            try:
                return client.chat.completions.create(
                    model=self.model,
                    # Plain dicts, exactly as sent: the SDK's TypedDicts add nothing here.
                    messages=cast(Any, messages),
                    tools=cast(Any, TOOL_SCHEMAS),
                    # On the last round, ask for words: no more tool calls are allowed.
                    tool_choice="none" if last else "auto",
                    timeout=min(settings.LEXI_LLM_TIMEOUT_SECONDS, remaining),
                )
            except openai.APITimeoutError:
                reason, wait = "timeout", 0.0
            except openai.APIConnectionError:
                reason, wait = "connection_error", BACKOFF_SECONDS * 2**attempt
            except openai.RateLimitError as exc:
                reason = "rate_limited"
                wait = _retry_after(exc) or BACKOFF_SECONDS * 2**attempt
            except openai.InternalServerError as exc:
                reason = f"server_error_{exc.status_code}"
                wait = _retry_after(exc) or BACKOFF_SECONDS * 2**attempt
            except openai.APIStatusError as exc:
                raise EngineFailure(f"http_{exc.status_code}") from exc
            except openai.APIResponseValidationError as exc:
                raise EngineFailure("invalid_response") from exc
            except (ValueError, openai.OpenAIError) as exc:
                raise EngineFailure("invalid_response") from exc
            logger.warning("Lexi model call failed: %s (attempt %d)", reason, attempt + 1)
            if time.monotonic() + wait + MIN_CALL_SECONDS > deadline:
                raise EngineFailure(reason)
            time.sleep(wait)
        raise EngineFailure(reason)


def _assistant_tool_message(message: Any) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": message.content or None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": getattr(getattr(call, "function", None), "name", ""),
                    "arguments": getattr(getattr(call, "function", None), "arguments", ""),
                },
            }
            for call in message.tool_calls
        ],
    }


def _usage_add(usage: dict[str, Any], completion: Any) -> None:
    counted = getattr(completion, "usage", None)
    if counted is None:
        return
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        usage[key] = usage.get(key, 0) + (getattr(counted, key, 0) or 0)
    details = getattr(counted, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", 0) if details is not None else 0
    usage["cached_tokens"] = usage.get("cached_tokens", 0) + (cached or 0)
