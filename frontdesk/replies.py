"""What the front desk says on its own, whatever the channel: the fallback, and reply limits."""

from lexi.replies import MAX_REPLY_CHARS, apology_text
from tenants.models import Organization

__all__ = ["MAX_REPLY_CHARS", "fallback_text", "reply_text_limit"]


def reply_text_limit(text: str) -> str:
    """Clean a reply for sending: no NUL bytes, trimmed, never over 1,600 characters."""
    text = text.replace("\x00", "").strip()
    if len(text) <= MAX_REPLY_CHARS:
        return text
    cut = text[: MAX_REPLY_CHARS - 1]
    if " " in cut[-80:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def fallback_text(organization: Organization) -> str:
    """The polite answer when Lexi could not give one."""
    return apology_text(organization)
