"""Lexi's tools: JSON-schema'd actions that map onto the booking services.

Both engines act only through `tool_run`. The organization, channel and the patient's phone
come from the turn's context, never from the model's arguments; ids the model sends are looked
up among the sender's own rows, so a turn can never touch another phone's or clinic's data.
Every call is stored as a ToolCall row, whatever its outcome, and failures go back to the
model as structured errors instead of exceptions.

The modules: `names` (the `ToolName` enum: the one place a tool's name is spelled), `schemas`
(what the model sees), `arguments` (parsing and validating what it sends), `results` (what goes
back), one module of handlers per subdomain (`office`, `patients`, `scheduling`, `staff`),
`summaries` (a call in plain words, for staff), `registry` (all of it per tool: whoever needs
to know about a tool asks there) and `run` (dispatch, logging, the ToolCall row).
"""

from lexi.tools.arguments import ToolError
from lexi.tools.registry import TOOLS, ToolName, tool_summary
from lexi.tools.results import ToolResult, start_text
from lexi.tools.run import tool_run
from lexi.tools.schemas import TOOL_NAMES, TOOL_SCHEMAS

__all__ = [
    "TOOLS",
    "TOOL_NAMES",
    "TOOL_SCHEMAS",
    "ToolError",
    "ToolName",
    "ToolResult",
    "start_text",
    "tool_run",
    "tool_summary",
]
