"""Which language a patient writes in: Spanish or English, from the words, never from the name.

Both demo clinics serve Spanish-speaking patients. A conversation takes the language of the
first text that clearly shows one and keeps it; a short "ok" or "1" shows none.
"""

import re
import unicodedata
from typing import Any

SPANISH = "es"
ENGLISH = "en"

_SPANISH_WORDS = frozenset(
    [
        "hola",
        "buenos",
        "buenas",
        "dias",
        "tardes",
        "noches",
        "quiero",
        "quisiera",
        "necesito",
        "puedo",
        "puede",
        "cita",
        "citas",
        "limpieza",
        "manana",
        "tarde",
        "semana",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "gracias",
        "por",
        "favor",
        "ayuda",
        "dolor",
        "muela",
        "diente",
        "dientes",
        "cancelar",
        "cambiar",
        "horario",
        "direccion",
        "donde",
        "cuando",
        "estan",
        "abren",
        "cierran",
        "llamar",
        "persona",
        "alguien",
        "hablar",
        "consulta",
        "revision",
        "urgente",
        "emergencia",
        "mi",
        "mis",
        "una",
        "para",
        "con",
        "que",
        "hay",
        "tienen",
        "seguro",
        "cuanto",
        "cuesta",
        "si",
        "claro",
        "vale",
        "perfecto",
        "el",
        "la",
        "los",
        "las",
        "y",
        "de",
        "en",
        "es",
        "muy",
        "me",
        "lo",
        "le",
        "se",
        "del",
        "al",
        "esta",
        "estoy",
        "tengo",
        "tiene",
        "mucho",
        "duele",
        "hinchado",
        "hinchada",
        "ayer",
        "nada",
        "algo",
        "tambien",
        "pero",
        "porque",
    ]
)
_ENGLISH_WORDS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "need",
        "want",
        "would",
        "like",
        "book",
        "appointment",
        "cleaning",
        "tomorrow",
        "morning",
        "afternoon",
        "week",
        "please",
        "thanks",
        "thank",
        "help",
        "pain",
        "tooth",
        "cancel",
        "change",
        "hours",
        "where",
        "when",
        "open",
        "call",
        "person",
        "someone",
        "my",
        "the",
        "for",
        "with",
        "is",
        "are",
        "do",
        "have",
        "can",
        "could",
        "you",
        "your",
        "yes",
        "ok",
        "okay",
        "sure",
    ]
)


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-z]+", plain)


def conversation_language_of(conversation: Any) -> str:
    """The language the clinic writes to this conversation's patient in (English by default)."""
    return str((conversation.metadata or {}).get("language") or ENGLISH)


def conversation_language(*, metadata: dict | None, text: str) -> str | None:
    """The conversation's language: the one it already has, else the one `text` shows."""
    return (metadata or {}).get("language") or language_detect(text)


def language_detect(text: str) -> str | None:
    """'es' or 'en' when the words clearly show one (two more of its words), else None."""
    words = _words(text)
    spanish = sum(w in _SPANISH_WORDS for w in words) + (2 if re.search(r"[ñ¿¡]", text) else 0)
    english = sum(w in _ENGLISH_WORDS for w in words)
    if spanish >= english + 2 or (spanish >= 1 and english == 0 and len(words) <= 2):
        return SPANISH
    if english >= spanish + 2:
        return ENGLISH
    return None
