"""Parsing and validating the arguments the model sends; every refusal is a ToolError."""

from __future__ import annotations

import json
import re
from datetime import date
from datetime import time as time_of_day
from typing import Any

from lexi.tools.names import ToolName
from lexi.tools.schemas import TOOL_PARAMETERS

MAX_STRING = 200
MAX_REASON = 300
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ToolError(Exception):
    """A refusal the model should read and recover from (bad input, nothing found...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def arguments_parse(raw: dict[str, Any] | str | None) -> dict[str, Any]:
    """The arguments as a dict, whether the model sent JSON text or a decoded object."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ToolError("invalid_json", "The arguments are not valid JSON.") from exc
    else:
        value = raw
    if not isinstance(value, dict):
        raise ToolError("invalid_arguments", "The arguments must be a JSON object.")
    return value


def arguments_validate(name: ToolName, arguments: dict[str, Any]) -> dict[str, Any]:
    """Check the arguments against the tool's schema; returns them with strings stripped."""
    schema = TOOL_PARAMETERS[name]
    properties: dict[str, Any] = schema["properties"]
    problems = [f"unknown argument '{key}'" for key in arguments if key not in properties]
    clean: dict[str, Any] = {}
    invalid: set[str] = set()
    for key, spec in properties.items():
        if key not in arguments or arguments[key] is None:
            continue
        value = arguments[key]
        invalid.add(key)  # until it passes
        if spec["type"] == "string":
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)  # models often send numeric ids unquoted
            if not isinstance(value, str):
                problems.append(f"'{key}' must be a string")
                continue
            value = value.strip()
            if not value:
                invalid.discard(key)  # reported as missing if required
                continue
            limit = MAX_REASON if key == "reason" else MAX_STRING
            if len(value) > limit:
                problems.append(f"'{key}' is longer than {limit} characters")
                continue
            if "enum" in spec and value.lower() not in spec["enum"]:
                problems.append(f"'{key}' must be one of {', '.join(spec['enum'])}")
                continue
            clean[key] = value.lower() if "enum" in spec else value
            invalid.discard(key)
        elif spec["type"] == "boolean":
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                value = value.strip().lower() == "true"
            if not isinstance(value, bool):
                problems.append(f"'{key}' must be true or false")
                continue
            clean[key] = value
            invalid.discard(key)
        elif spec["type"] == "integer":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"'{key}' must be an integer")
                continue
            if not spec.get("minimum", value) <= value <= spec.get("maximum", value):
                problems.append(f"'{key}' must be between {spec['minimum']} and {spec['maximum']}")
                continue
            clean[key] = value
            invalid.discard(key)
    for key in schema["required"]:
        if key not in clean and key not in invalid:
            problems.append(f"'{key}' is required")
    if problems:
        raise ToolError("invalid_arguments", "; ".join(problems) + ".")
    return clean


def date_parse(value: str | None, *, key: str) -> date | None:
    """A YYYY-MM-DD argument as a date (None when absent); raises ToolError naming `key`."""
    if value is None:
        return None
    if not _DATE_RE.match(value):
        raise ToolError("invalid_arguments", f"'{key}' must be a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ToolError("invalid_arguments", f"'{key}' is not a real date.") from exc


def time_parse(value: str | None, *, key: str) -> time_of_day | None:
    """An HH:MM (24-hour) argument as a time (None when absent); raises ToolError naming `key`."""
    if value is None:
        return None
    match = _TIME_RE.match(value)
    if match is None:
        raise ToolError("invalid_arguments", f"'{key}' must be a time as HH:MM (24-hour).")
    return time_of_day(int(match[1]), int(match[2]))
