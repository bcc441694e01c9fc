"""What reminders say and read: lead times, the reminder template, the words of a reply."""

import re
import string
from dataclasses import asdict, dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tenants.clock import clock_for_patient, day_for_patient

DEFAULT_REMINDER_TEMPLATE = gettext_noop(
    "Hi {first_name}, this is {clinic}: a reminder of your {visit_type} with {provider} on "
    "{date} at {time}. Reply C to confirm or R to reschedule. To cancel, reply CANCEL VISIT."
)
PLACEHOLDERS = ("first_name", "clinic", "visit_type", "provider", "date", "time")
MAX_LEAD_MINUTES = 14 * 1440

_LEAD = re.compile(r"^(\d{1,4})\s*([dhm])$")
_UNIT_MINUTES = {"d": 1440, "h": 60, "m": 1}


def lead_times_parse(value: str) -> list[int]:
    """'2d, 2h' -> [2880, 120] (minutes, longest first); raises ValueError saying what is wrong."""
    minutes = set()
    for part in (p.strip().lower() for p in value.split(",")):
        if not part:
            continue
        match = _LEAD.match(part)
        if match is None:
            raise ValueError(
                f"{part!r} is not a lead time: write a number and d, h or m, e.g. 2d, 2h, 30m."
            )
        lead = int(match[1]) * _UNIT_MINUTES[match[2]]
        if not 0 < lead <= MAX_LEAD_MINUTES:
            raise ValueError(f"{part!r}: a lead time is between 1 minute and 14 days.")
        minutes.add(lead)
    if not minutes:
        raise ValueError("Give at least one lead time, e.g. 2d, 2h.")
    return sorted(minutes, reverse=True)


def template_validate(template: str) -> None:
    """Raise ValueError naming any placeholder that is not one of PLACEHOLDERS."""
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        parts = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ValueError(
            f"The text has an unmatched brace ({exc}). Placeholders are {known}; write {{{{ "
            "and }} for a literal brace."
        ) from exc
    unknown = sorted({f for f, _, _ in parts if f is not None and f not in PLACEHOLDERS})
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        raise ValueError(f"Unknown placeholder {names}. Use only {known}.")
    if any(spec or conv for f, spec, conv in parts if f is not None):
        raise ValueError(f"Write placeholders plainly, without formats: {known}.")
    if not template.strip():
        raise ValueError("The reminder text is empty.")


@dataclass(frozen=True)
class VisitWords:
    """An appointment as a text reads it."""

    first_name: str
    clinic: str
    visit_type: str
    provider: str
    date: str
    time: str


def visit_words(
    *, first_name: str, clinic: str, visit_type: str, provider: str, start: datetime
) -> VisitWords:
    """`start` must already be in the clinic's timezone; written in the active language."""
    return VisitWords(
        first_name=first_name,
        clinic=clinic,
        visit_type=visit_type.lower(),
        provider=provider,
        date=day_for_patient(start),
        time=clock_for_patient(start),
    )


def reminder_render(template: str, words: VisitWords) -> str:
    return template.format(**{name: getattr(words, name) for name in PLACEHOLDERS})


def confirmation_text(words: VisitWords) -> str:
    return _(
        "Thanks, %(first_name)s! Your %(visit_type)s on %(date)s at %(time)s is confirmed. "
        "See you then!"
    ) % asdict(words)


def reminder_template(template: str) -> str:
    """The clinic's reminder text; the default one in the patient's language."""
    return _(DEFAULT_REMINDER_TEMPLATE) if template == DEFAULT_REMINDER_TEMPLATE else template


def change_notice_text(kind: str, words: VisitWords) -> str:
    """The short text for a visit staff booked, moved or cancelled."""
    values = asdict(words)
    if kind == "cancelled":
        return (
            _(
                "%(clinic)s: your %(visit_type)s on %(date)s at %(time)s is cancelled. "
                "Reply here to book a new time."
            )
            % values
        )
    if kind == "booked":
        return (
            _(
                "%(clinic)s: your %(visit_type)s with %(provider)s is booked for %(date)s at "
                "%(time)s. Reply here if you need to change it."
            )
            % values
        )
    return (
        _(
            "%(clinic)s: your %(visit_type)s with %(provider)s has moved to %(date)s at %(time)s. "
            "Reply here if you need to change it."
        )
        % values
    )


CONFIRM = "confirm"
RESCHEDULE = "reschedule"
CANCEL = "cancel"

_CONFIRM_WORDS = frozenset({"c", "confirm", "confirmed", "yes", "y", "si", "sí", "confirmo"})
_RESCHEDULE_WORDS = frozenset({"r", "reschedule"})
_THUMBS_UP = "\U0001f44d"
# Skin tones and the emoji variation selector leave a thumbs-up a thumbs-up.
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def reminder_reply_kind(body: str) -> str:
    """What a reply to a reminder asks: CONFIRM, RESCHEDULE, CANCEL, or "" (anything else).

    A bare CANCEL never gets here: it is a carrier opt-out keyword (sms/replies.py).
    """
    text = _EMOJI_MODIFIERS.sub("", body).strip(string.whitespace + string.punctuation).lower()
    if text in _CONFIRM_WORDS or (text and set(text.replace(" ", "")) == {_THUMBS_UP}):
        return CONFIRM
    if text in _RESCHEDULE_WORDS:
        return RESCHEDULE
    if re.match(r"^cancel\b", text):
        return CANCEL
    return ""
