"""How the offline engine reads ordinary texting: what the patient wants, yes/no, names and
appointment types. Pure functions of the text, no database (dates and times: dates.py).

Everything works on `text_normalize`d text: lower case, common abbreviations expanded and
typos in the words that matter corrected (difflib against a small vocabulary), so that
"cancell my apointment tommorow" reads as "cancel my appointment tomorrow".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from lexi.engines.offline.words import MONTH_RE, MONTHS, WEEKDAYS, has

__all__ = [
    "ALSO_RIGHT_AFTER",
    "Intent",
    "Someone",
    "appointment_type_pick",
    "asks_question",
    "has_insurance_question",
    "info_topics",
    "intent_detect",
    "life_threatening",
    "moves_visit",
    "name_parse",
    "someone_named",
    "text_normalize",
    "wants_booking",
    "wants_earlier",
    "wants_later",
    "yes_no",
]

# --- normalization ---------------------------------------------------------------------------

_ABBREVIATIONS = {
    "appt": "appointment",
    "appts": "appointments",
    "apt": "appointment",
    "apts": "appointments",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "tmro": "tomorrow",
    "tomo": "tomorrow",
    "2morrow": "tomorrow",
    "2moro": "tomorrow",
    "2day": "today",
    "resched": "reschedule",
    "rsvp": "confirm",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "ty": "thanks",
    "u": "you",
    "ur": "your",
    "wk": "week",
    "nxt": "next",
    "mornin": "morning",
    "arvo": "afternoon",
    "aft": "afternoon",
    "nite": "night",
    "addy": "address",
    "ppl": "people",
    "bc": "because",
    "ok": "okay",
    "k": "okay",
    "kk": "okay",
    "yep": "yes",
    "yup": "yes",
    "yeah": "yes",
    "yea": "yes",
    "ya": "yes",
    "yah": "yes",
    "yas": "yes",
    "yess": "yes",
    "y": "yes",
    "nope": "no",
    "nah": "no",
    "naw": "no",
    "n": "no",
    "checkups": "checkup",
    "cleanings": "cleaning",
}

_PHRASES = [
    (re.compile(r"\bcheck[\s-]+ups?\b"), "checkup"),
    (re.compile(r"\bre[\s-]+schedule\b"), "reschedule"),
    (re.compile(r"\bday after tomorrow\b"), "overmorrow"),
    (re.compile(r"\bo'?clock\b"), "oclock"),
    (re.compile(r"\ba\.\s?m\.?(?=\s|$)"), "am"),
    (re.compile(r"\bp\.\s?m\.?(?=\s|$)"), "pm"),
    (re.compile(r"\bdon'?t\b"), "do not"),
    (re.compile(r"\bcan'?t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bi'?m\b"), "i am"),
    (re.compile(r"\bwhat'?s\b"), "what is"),
    (re.compile(r"\bwhen'?s\b"), "when is"),
    (re.compile(r"\bwhere'?s\b"), "where is"),
    (re.compile(r"\blet'?s\b"), "let us"),
    (re.compile(r"\bthat'?s\b"), "that is"),
]

# Words the offline engine acts on, and ordinary words near them that must not be "corrected".
_VOCABULARY_WORDS = """
    appointment appointments cleaning clean cleaned checkup check checked exam examination
    consultation consult emergency urgent hygiene dentist doctor tooth teeth filling crown
    tomorrow today tonight overmorrow morning afternoon evening night noon lunch week weekend
    month monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december reschedule rescheduled schedule
    scheduled cancel cancelled canceled cancellation change changed move moved book booked
    booking available availability opening openings address located location directions where
    website online phone number call hours open opening closed close closing bleeding bleed
    swelling swollen knocked broken broke cracked chipped toothache abscess pain painful severe
    terrible unbearable excruciating hurts hurting infection fever insurance covered coverage
    price prices cost costs copay dental person human someone somebody receptionist staff
    people front desk manager earlier earliest later latest another different other first
    second third fourth last option number please thanks thank hello there great perfect sounds
    works fine sure okay right correct confirm absolutely definitely anything something nothing
    never mind actually instead still about after before around between which those these there
    thing things killing
    their would could should maybe possible really would rather other month months weeks
"""
_VOCABULARY = frozenset(_VOCABULARY_WORDS.split())

_WORD = re.compile(r"[a-z]+")
WEEKDAY_NAMES = frozenset(WEEKDAYS) | frozenset(MONTHS)


def _correct(word: str) -> str:
    if word in _ABBREVIATIONS:
        return _ABBREVIATIONS[word]
    if len(word) < 5 or word in _VOCABULARY:
        return word
    match = difflib.get_close_matches(word, _VOCABULARY, n=1, cutoff=0.8)
    return match[0] if match else word


def text_normalize(text: str, *, correct: bool = True) -> str:
    """Lower case, abbreviations expanded, typos in the words that matter corrected (not when
    `correct` is off: a name is not a typo, "Paine" is not "pain")."""
    lowered = text.lower().replace("\u2019", "'").replace("&", " and ")
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    if not correct:
        return lowered.strip()
    return re.sub(r"[a-z]+", lambda m: _correct(m.group(0)), lowered).strip()


# --- intents ---------------------------------------------------------------------------------


class Intent(StrEnum):
    EMERGENCY = "emergency"
    HUMAN = "human"
    STOP = "stop"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    APPOINTMENTS = "appointments"
    BOOK = "book"
    INFO = "info"
    INSURANCE = "insurance"
    DIAGNOSIS = "diagnosis"
    GREETING = "greeting"
    THANKS = "thanks"


_EMERGENCY = (
    r"\bemergency\b|\burgent(ly)?\b|\bsevere\b|\bunbearable\b|\bexcruciating\b|\bkilling me\b"
    r"|\bswell(ing|ed)?\b|\bswollen\b|\bbleed(ing|s)?\b|\bknocked\b|\bfell out\b"
    r"|\b(broke|broken|cracked)\b.*\btooth\b|\btooth\b.*\b(broke|broken|cracked)\b"
    r"|\babscess\b|\bpus\b|\bpain(ful)?\b|\btoothache\b|\bhurts?\b|\bhurting\b|\bache\b"
    r"|\b(crown|filling|cap|bridge)\b.{0,25}\b(fell|fallen|came|come|popped|broke|broken|cracked)"
    r"\b.{0,10}\b(off|out)?|\blost (a |my |the )?(crown|filling|cap)\b"
    r"|\bjaw\b.{0,20}\bswol|\bface\b.{0,20}\bswol|\bknocked[\s-]+out\b"
    r"|\bwill not stop bleeding\b|\b(can not|trouble|hard time|difficulty|hard to) "
    r"(breathe|breathing|swallow|swallowing)\b"
)
_LIFE_THREATENING = (
    r"\b(can not|could not|trouble|hard time|difficulty|hard to|struggling to) "
    r"(breathe|breathing|swallow|swallowing)\b|\bshort(ness)? of breath\b"
)


def life_threatening(text: str) -> bool:
    """Trouble breathing or swallowing: 911 before anything the clinic can do."""
    return has(text, _LIFE_THREATENING)


_HUMAN = (
    r"\b(real|actual|live) (person|human|people)\b|\bhuman\b|\bperson\b|\bsomeone\b"
    r"|\bsomebody\b|\breceptionist\b|\bfront desk\b|\bstaff\b|\brepresentative\b|\boperator\b"
    r"|\bmanager\b|\bcall me back\b|\bgive me a call\b|\b(someone|you) call me\b"
)
_STOP = (
    r"\bnever ?mind\b|\bforget (it|that|about it)\b|\bstart over\b"
    r"|\bcancel (that|this)\b(?! (appointment|visit|booking))"
)
_CANCEL = r"\bcancel(l?ed|lation)?\b|\bcan not (make|come|do)\b|\bwill not (make|be able)\b"
_RESCHEDULE = (
    r"\breschedul\w*|\b(move|change|push|switch|shift)\b.{0,25}\b(appointment|time|it|visit)\b"
    r"|\bdifferent (day|time)\b.{0,20}\bappointment\b"
)
_APPOINTMENTS = (
    r"\bwhen is my\b|\bwhat time is my\b|\bdo i have an?\b.*\b(appointment|booking)\b"
    r"|\bmy (next|upcoming) (appointment|visit)\b|\bwhat day is my\b"
)
_BOOK = (
    r"\bbook\w*\b|\bappointments?\b|\bschedul\w*\b|\bcleaning\b|\bclean(ed)?\b|\bcheckup\b"
    r"|\bexam\b|\bconsult(ation)?\b|\bcome in\b|\bsee (the|a) (dentist|doctor)\b|\bavailab\w*"
    r"|\bopenings?\b|\bnew patient\b|\bvisit\b|\bslots?\b|\bget in\b"
    r"|\b(talk|speak) (to|with) (the|a) (dentist|doctor)\b|\bsee me\b"
)
_INSURANCE = (
    r"\binsurance\b|\bcovered\b|\bcoverage\b|\bhow much\b|\bprice\b|\bcosts?\b|\bcopay\b"
    r"|\bmedicaid\b|\bdelta\b|\bpay\b|\bfees?\b"
)
_DIAGNOSIS = (
    r"\bdo i (have|need) (a |an )?(cavity|infection|root canal|filling|crown|extraction"
    r"|antibiotics?|wisdom)\b|\bis (it|this|that) (a |an )?(cavity|infected|infection|normal|bad)\b"
    r"|\bwhat (is|could be) wrong\b|\bdiagnos\w*|\bshould i (be worried|worry|take)\b"
    r"|\bantibiotics?\b|\bibuprofen\b|\bpainkillers?\b|\bmedication\b|\bwhat should i take\b"
)
_GREETING = r"^(hi|hello|hey|hiya|good (morning|afternoon|evening)|howdy|yo)\b"
_THANKS = r"\bthanks?\b|\bthank you\b|\bbye\b|\bgoodbye\b|\bsee you\b|\bappreciate\b"

_INFO_TOPICS = {
    "hours": r"\bhours\b|\bopen\b|\bclose[sd]?\b|\bclosing\b|\bopening time\b",
    "address": r"\baddress\b|\bwhere\b|\blocat\w*|\bdirections\b|\bparking\b",
    "phone": r"\bphone\b|\bnumber\b|\bcall you\b|\bcall the office\b",
    "website": r"\bwebsite\b|\bweb ?site\b|\bsite\b|\bonline\b|\burl\b|\binternet\b",
}


def info_topics(text: str) -> list[str]:
    """The office facts asked about: any of hours, address, phone, website (normalized text)."""
    return [topic for topic, pattern in _INFO_TOPICS.items() if has(text, pattern)]


def asks_question(text: str) -> bool:
    """A question mark or a question word: "what are your hours", "where are you?"."""
    return has(text, r"\?|\bwhat\b|\bwhere\b|\bwhen\b|\bhow\b|\bare you\b|\bdo you\b|\bis the\b")


def has_insurance_question(text: str) -> bool:
    return has(text, _INSURANCE)


def wants_booking(text: str) -> bool:
    """Whether the text also asks for a visit ("are you open tomorrow? I need a cleaning")."""
    return has(text, _BOOK)


def intent_detect(text: str) -> Intent | None:
    """What the patient wants, from normalized text; the most urgent intent wins."""
    if has(text, _EMERGENCY) and not has(text, r"\bno (pain|swelling|bleeding)\b"):
        return Intent.EMERGENCY
    if has(text, _HUMAN) and not has(
        text, r"\bsomeone else\b|\b(someone|somebody) (see|look at|check)\b"
    ):
        return Intent.HUMAN
    if has(text, _STOP):
        return Intent.STOP
    if (
        has(text, _CANCEL)
        and not has(text, r"\b(do|did) not (want to )?cancel\b")
        # "I can't make Tuesday anymore": that visit moves (moves_visit), it is not called off
        and not has(text, r"\bcan not make\b.*\b(anymore|any more)\b")
    ):
        return Intent.CANCEL
    if has(text, _RESCHEDULE):
        return Intent.RESCHEDULE
    if has(text, _APPOINTMENTS):
        return Intent.APPOINTMENTS
    if has(text, _DIAGNOSIS):
        return Intent.DIAGNOSIS
    if has(text, _INSURANCE):
        return Intent.INSURANCE
    if info_topics(text) and (
        has(text, r"\?|\bwhat\b|\bwhere\b|\bwhen\b|\bhow\b|\byour\b|\bare you\b|\bis the\b")
        or not has(text, _BOOK)
    ):
        return Intent.INFO
    if has(text, _BOOK):
        return Intent.BOOK
    if has(text, _GREETING):
        return Intent.GREETING
    if has(text, _THANKS):
        return Intent.THANKS
    return None


# --- yes / no --------------------------------------------------------------------------------

_YES_PHRASES = r"\bwhy not\b|\bno problem\b|\bno worries\b|\bof course\b|\bfor sure\b"
_NO = (
    r"^\s*no\b|\bno\s*(thanks|thank you)\b|\bnot\b|\bnever\b|\bneither\b|\bnone\b"
    r"|\bsomething else\b|\bother (times?|days?|options?)\b|\banother (time|day)\b"
    r"|\bdifferent (time|day)\b|\blater\b|\bearlier\b|\bkeep it\b|\bdo not\b|\bnah\b"
)
_YES = (
    r"^\s*(yes|okay|sure|yes please|please|correct|right|confirm(ed)?|great|perfect|good|fine"
    r"|alright|all right|absolutely|definitely|totally|exactly|cool|awesome|lovely|excellent"
    r"|ideal|works|that works|sounds (good|great|perfect)|works for me|go ahead|do it"
    r"|book it|please do|let us do (it|that)|let us do it|yes that works|affirmative)\b"
    r"|\bsounds (good|great|perfect)\b|\bthat works\b|\bworks for me\b|\bgo ahead\b"
    r"|\bbook it\b|\bplease do\b|\byes\b|\bokay\b|\bsure\b|\bperfect\b|\bthat (one|is) fine\b"
    r"|^\s*s[ií]\b"
    r"|\U0001f44d"
)


def yes_no(text: str) -> bool | None:
    """True for yes / yep / ok / sure / sounds good, False for no / nope / no, later; else None."""
    if has(text, _YES_PHRASES):
        return True
    if has(text, _NO):
        return False
    if has(text, _YES):
        return True
    return None


_MOVES_VISIT = (
    r"\b(come|get) in (earlier|sooner)\b|\banything (sooner|earlier)\b"
    r"|\b(sooner|earlier) (time|slot|day|opening)\b"
    r"|\bmove (it|this|that|my \w+) (up|earlier|later|back)\b"
    r"|\bpush (it|this|that|my \w+) (back|out|later)\b"
    r"|\bsame time next week\b|\bcan not make (it|\w+day)( \w+)? (anymore|any more)\b"
    r"|\bbring (it|my \w+) forward\b"
)


def moves_visit(text: str) -> bool:
    """Whether the text asks to shift a visit the patient has ("anything sooner?", "push it
    back an hour", "I can't make Tuesday anymore"), not to book one."""
    return has(text, _MOVES_VISIT)


def wants_later(text: str) -> bool:
    return has(text, r"\blater\b|\bafter that\b|\blatest\b")


def wants_earlier(text: str) -> bool:
    return has(text, r"\bearlier\b|\bsooner\b|\bbefore that\b")


# --- calendar words (shared with dates.py) ---


# --- names ---

_NAME_PREFIX = re.compile(
    r"^\s*(?:(?:hi|hello|hey|sure|okay|ok|yes)[,!.\s]+)*(?:my name is|my name's|name is|"
    r"name's|i am|i'm|im|it's|its|it is|this is|call me|the name is)?\s*",
    re.IGNORECASE,
)
_NOT_NAME_WORDS = """
    and my dob is date of birth birthday born on the i was a an it for me please thanks thank
    you yes no ok okay sure first last name new patient hi hello hey
"""
_NOT_NAME = frozenset(_NOT_NAME_WORDS.split())


# Lower-case particles of family names stay as written after the first name ("de la Cruz").
_PARTICLES = frozenset(
    [
        "de",
        "del",
        "della",
        "la",
        "las",
        "los",
        "le",
        "van",
        "von",
        "der",
        "den",
        "da",
        "di",
        "du",
        "dos",
        "das",
        "bin",
        "ibn",
        "al",
    ]
)
_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*")


def name_parse(text: str) -> tuple[str, str]:
    """(first, last) from 'Jane Smith', 'my name is Jane Smith, 3/14/1985'; '' when absent.

    Names are kept as people write them: accents, apostrophes, hyphens and particles stay, and
    words that are also ordinary words (Hope, Will, May, Sunday) are names here. Only a name
    typed all in lower or upper case is capitalized.
    """
    rest = _NAME_PREFIX.sub("", text, count=1)
    # A date of birth may follow: cut at its first digit, or at a month followed by one.
    rest = re.split(
        rf"\d|\b(?:born|dob|birthday|date of birth)\b|\b(?:{MONTH_RE})\b\.?,?\s*(?=\d)",
        rest,
        maxsplit=1,
        flags=re.IGNORECASE,
    )[0]
    words = [w for w in _NAME_WORD.findall(rest) if w.lower() not in _NOT_NAME]
    if not words or len(words) > 6:
        return "", ""
    first = _name_word(words[0], first=True)
    last = " ".join(_name_word(w, first=False) for w in words[1:])
    return first, last


def _name_word(word: str, *, first: bool) -> str:
    if not (word.islower() or word.isupper()):
        return word  # mixed case is how the patient spells it: O'Brien, McDonald, DeShawn
    if not first and word.islower() and word in _PARTICLES:
        return word
    return re.sub(r"(^|['\u2019-])([^\W\d_])", lambda m: m[1] + m[2].upper(), word.lower())


# --- family members -----------------------------------------------------------------------------

_RELATIONS = (
    "son|daughter|kid|child|boy|girl|husband|wife|partner|mom|mother|dad|father|brother|sister"
    "|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|baby|stepson|stepdaughter"
)
_FAMILY = re.compile(
    rf"\b(?:my|his|her|their|our) (?P<relation>{_RELATIONS})\b(?:,)?(?: (?:named|called))?"
    r"(?: (?P<name>[^\W\d_]+(?:['\u2019-][^\W\d_]+)?))?",
    re.IGNORECASE,
)
_FOR_NAME = re.compile(r"\bfor (?P<name>[A-Z][^\W\d_]+(?:['\u2019-][^\W\d_]+)?)")
# Words that follow "my son" without being his name.
_NOT_A_NAME = frozenset(
    [
        "too",
        "also",
        "and",
        "as",
        "well",
        "please",
        "is",
        "has",
        "needs",
        "need",
        "for",
        "a",
        "an",
        "the",
        "in",
        "on",
        "at",
        "tomorrow",
        "today",
        "tonight",
        "next",
        "this",
        "right",
        "after",
        "before",
        "who",
        "he",
        "she",
        "they",
        "it",
        "will",
        "would",
        "can",
        "could",
        "just",
        "again",
        "appointment",
        "cleaning",
        "checkup",
        "exam",
        "visit",
    ]
)
ALSO_RIGHT_AFTER = r"\b(too|also|as well|right after|back to back|after (him|her|that|them))\b"


@dataclass(frozen=True)
class Someone:
    """Who a visit is for when it is not the texter: 'my son Max', 'for Theo', 'my daughter'."""

    relation: str = ""
    name: str = ""


def someone_named(raw: str) -> Someone | None:
    """The family member the text books for, from the patient's own words (not normalized)."""
    match = _FAMILY.search(raw)
    if match:
        name = match["name"] or ""
        if (
            name.lower() in _NOT_A_NAME
            or name.lower() in _VOCABULARY
            or name.lower() in WEEKDAY_NAMES
        ):
            name = ""
        return Someone(relation=match["relation"].lower(), name=name[:1].upper() + name[1:])
    match = _FOR_NAME.search(raw)
    if match and match["name"].lower() not in _VOCABULARY | WEEKDAY_NAMES | _NOT_A_NAME:
        return Someone(name=match["name"])
    return None


# --- appointment types -----------------------------------------------------------------------

_TYPE_WORDS = {
    "cleaning": r"\bclean(ing|ed)?\b|\bhygien\w*|\bpolish\b|\bscaling\b",
    "checkup": r"\bcheckup\b|\bexam(ination)?\b|\broutine\b|\bregular\b|\bx-?rays?\b|\bcheck\b",
    "emergency": r"\bemergency\b|\burgent\b",
    "consult": (
        r"\bconsult(ation)?\b|\bsecond opinion\b|\bimplants?\b|\bbraces\b|\bwhitening\b"
        r"|\binvisalign\b|\bveneers?\b|\bcosmetic\b"
    ),
}


def _type_key(name: str) -> str | None:
    """Which family an office's type name belongs to; emergency wins over 'exam'."""
    lowered = name.lower()
    for key, fragments in (
        ("emergency", ("emerg", "urgent")),
        ("cleaning", ("clean", "hygien")),
        ("consult", ("consult",)),
        ("checkup", ("check", "exam", "recall")),
    ):
        if any(fragment in lowered for fragment in fragments):
            return key
    return None


def appointment_type_pick(text: str, *, types: list[str]) -> str | None:
    """Which of the office's appointment types the normalized text names, if exactly one."""
    scores: dict[str, int] = {}
    for name in types:
        if re.search(rf"\b{re.escape(name.lower())}\b", text):
            scores[name] = 100 + len(name)
            continue
        key = _type_key(name)
        if key is not None and has(text, _TYPE_WORDS[key]):
            scores[name] = 10
    if not scores:
        return None
    best = max(scores.values())
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None
