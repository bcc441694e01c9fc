"""Lexi driven directly, as a channel drives it: the tenant scope opened first.

Lexi only asserts the scope (`scope_required`); the webhook opens it. Tests that call the
turn, a tool or the offline engine without the webhook import these instead.
"""

from typing import Any

from lexi import agent
from lexi.context import TurnContext, TurnReply
from lexi.engines import offline
from lexi.tools import ToolResult
from lexi.tools import run as tools_run
from tenants.scoping import tenant_scope


def run_turn(**kwargs: Any) -> TurnReply:
    with tenant_scope(kwargs["conversation"].organization_id):
        return agent.run_turn(**kwargs)


def tool_run(*, context: TurnContext, **kwargs: Any) -> ToolResult:
    with tenant_scope(context.organization):
        return tools_run.tool_run(context=context, **kwargs)


class OfflineEngine(offline.OfflineEngine):
    def reply(self, *, context: TurnContext, history: list[Any]) -> TurnReply:
        with tenant_scope(context.organization):
            return super().reply(context=context, history=history)
