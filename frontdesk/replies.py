"""What the front desk says on its own, whatever the channel: the fallback, and reply limits."""

from tenants.models import Organization

# Twilio concatenates at most 10 segments; longer bodies are refused.
MAX_REPLY_CHARS = 1600


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
    office = f" at {organization.phone}" if organization.phone else ""
    return (
        "Sorry, I'm having trouble answering right now. A team member will follow up, "
        f"or you can call us{office}."
    )
