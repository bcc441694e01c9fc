"""Opting out in words: "stop texting me", "unsubscribe me", "no me escriban más".

Carriers and Twilio act only on a keyword sent alone (STOP, UNSUBSCRIBE, ...), and confirm it
themselves. A patient who says it in a sentence is just as clear: Lexi records the opt-out the
same way and confirms it once herself. "Stop" inside an ordinary sentence ("the bleeding won't
stop", "can I stop by later?") is not an opt-out.
"""

import re
import unicodedata

from django.utils import translation
from django.utils.translation import gettext as _

_ENGLISH = re.compile(
    r"\bstop (?:texting|messaging|sending (?:me )?(?:texts|messages)|contacting|txting)\b"
    r"|\b(?:remove|take) (?:me|my number|this number)\b.{0,30}\b(?:list|texts|messages)\b"
    r"|\bunsubscribe(?: me)?\b"
    r"|\b(?:do not|don'?t|dont|never) (?:text|txt|message|contact) (?:me|this number|us)\b"
    r"(?!.{0,15}\b(?:before|after|until|till|at|on|during|between|in the)\b)"
    r"|\bopt (?:me )?out\b"
    r"|\bno more (?:texts|messages)\b",
)
_SPANISH = re.compile(
    r"^parar$"
    r"|\bcancelar (?:la )?suscripcion\b"
    r"|\bno me (?:escriban|escribas|manden|mandes|envien|envies) (?:mas|mensajes)\b"
    r"|\bdar(?:me)? de baja\b"
)


def _plain(text: str) -> str:
    """Lower case, accents off, apostrophes straight, punctuation to spaces, spaces single."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w' ]", " ", text).split())


def opt_out_language(text: str) -> str | None:
    """'en' or 'es' when the text asks to stop receiving texts, else None."""
    plain = _plain(text)
    if _SPANISH.search(plain):
        return "es"
    if _ENGLISH.search(plain):
        return "en"
    return None


def opt_out_confirmation(clinic: str, language: str) -> str:
    """The one confirmation, in the language the patient asked in."""
    with translation.override(language):
        return _(
            "%(clinic)s: you're unsubscribed and won't get more texts from us. Reply START to "
            "opt back in."
        ) % {"clinic": clinic}
