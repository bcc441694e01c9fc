"""What Lexi's SMS channel says on its own: keywords, help, media, slow-down, fallback."""

import string

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Organization

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
OPT_IN_IF_OPTED_OUT = frozenset({"YES"})  # "yes" is also an answer in a dialogue
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})


def sms_keyword(body: str) -> str:
    """The whole message as a keyword candidate: 'Stop!' -> 'STOP', ' help. ' -> 'HELP'."""
    return body.strip(string.whitespace + string.punctuation).upper()


SLOW_DOWN_TEXT = gettext_lazy(
    "You're sending messages faster than I can answer. Please wait a minute, "
    "then send your question in one message."
)


def help_text(organization: Organization) -> str:
    if organization.phone:
        return _(
            "%(clinic)s: this is Lexi, our text assistant. Text your question here or call us "
            "at %(phone)s. Reply STOP to opt out."
        ) % {"clinic": organization.name, "phone": organization.phone}
    return _(
        "%(clinic)s: this is Lexi, our text assistant. Text your question here. Reply STOP to "
        "opt out."
    ) % {"clinic": organization.name}


def media_text(organization: Organization) -> str:
    if organization.phone:
        return _(
            "I can't open pictures here, but I've let the team know so someone can take a look. "
            "Please describe it in a text, or call us at %(phone)s."
        ) % {"phone": organization.phone}
    return _(
        "I can't open pictures here, but I've let the team know so someone can take a look. "
        "Please describe it in a text, or call us."
    )
