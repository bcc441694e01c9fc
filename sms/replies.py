"""What Lexi's SMS channel says on its own: keywords, help, media, slow-down, fallback."""

import string

from tenants.models import Organization

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
OPT_IN_IF_OPTED_OUT = frozenset({"YES"})  # "yes" is also an answer in a dialogue
HELP_WORDS = frozenset({"HELP", "INFO"})


def sms_keyword(body: str) -> str:
    """The whole message as a keyword candidate: 'Stop!' -> 'STOP', ' help. ' -> 'HELP'."""
    return body.strip(string.whitespace + string.punctuation).upper()


SLOW_DOWN_TEXT = (
    "You're sending messages faster than I can answer. Please wait a minute, "
    "then send your question in one message."
)


def help_text(organization: Organization) -> str:
    office = f" or call us at {organization.phone}" if organization.phone else ""
    return (
        f"{organization.name}: this is Lexi, our text assistant. Text your question here"
        f"{office}. Reply STOP to opt out."
    )


def media_text(organization: Organization) -> str:
    office = f" at {organization.phone}" if organization.phone else ""
    return (
        "I can't open pictures here, but I've let the team know so someone can take a look. "
        f"Please describe it in a text, or call us{office}."
    )
