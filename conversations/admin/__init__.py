"""The conversations app's admin: Calls (conversations), Lexi's actions, quick replies."""

from conversations.admin import calls, quick_replies, tool_calls

__all__ = ["calls", "quick_replies", "tool_calls"]
