"""What every Lexi reply obeys, whichever engine or channel: its length, and the apology.

The one place for these rules; the engines, the turn and the channels import them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from tenants.models import Organization

__all__ = ["MAX_REPLY_CHARS", "SCREEN_CHARS", "apology_text"]

# Twilio concatenates at most 10 segments and refuses longer bodies: no text in or out of a
# conversation is longer.
MAX_REPLY_CHARS = 1600
# One phone screen: what Lexi writes a reply to fit (the prompt asks the model for it; the
# offline engine cuts to it).
SCREEN_CHARS = 320


def apology_text(organization: Organization) -> str:
    """What the patient reads when Lexi cannot answer: a person will follow up."""
    if organization.phone:
        return _(
            "Sorry, I'm having trouble answering right now. A team member will follow up, or you "
            "can call us at %(phone)s."
        ) % {"phone": organization.phone}
    return _(
        "Sorry, I'm having trouble answering right now. A team member will follow up, or you "
        "can call us."
    )
