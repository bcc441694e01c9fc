"""Spanish as the offline engine reads it: the patient's words turned into the English ones its
rules know ("el jueves por la tarde" -> "thursday afternoon"), names and numbers untouched.
Its replies are Spanish through gettext (locale/es) while the conversation's language is on."""

from __future__ import annotations

import re

# Longest phrases first: "pasado mañana" before "mañana", "por la mañana" before "mañana".
_PHRASES = [
    (r"pasado mañana", "overmorrow"),
    (r"(por|en) la mañana|temprano", "morning"),
    (r"(por|en) la tarde", "afternoon"),
    (r"(por|en) la noche", "evening"),
    (r"la (próxima|proxima) semana|la semana que viene", "next week"),
    (r"(próximo|proximo|que viene)", "next"),
    (r"mañana|manana", "tomorrow"),
    (r"hoy", "today"),
    (r"lunes", "monday"),
    (r"martes", "tuesday"),
    (r"miércoles|miercoles", "wednesday"),
    (r"jueves", "thursday"),
    (r"viernes", "friday"),
    (r"sábado|sabado", "saturday"),
    (r"domingo", "sunday"),
    (r"a las", "at"),
    (r"(hacer|pedir|sacar|reservar|agendar|programar)( una)? cita|reservar|agendar", "book"),
    (r"citas?", "appointment"),
    (r"limpiezas?", "cleaning"),
    (r"revisión|revision|chequeo|control", "checkup"),
    (r"consulta", "consultation"),
    (r"emergencia|urgencia|urgente", "emergency"),
    (r"me duele|duele|dolor", "pain"),
    (r"hinchad[oa]|hinchazón|hinchazon|inflamad[oa]", "swollen"),
    (r"sangra|sangrado|sangrando", "bleeding"),
    (r"cancelar|anular", "cancel"),
    (r"cambiar|mover|reprogramar", "reschedule"),
    (r"horarios?|a qu[eé] hora abren", "hours"),
    (r"direcci[oó]n|d[oó]nde (est[aá]n|quedan)", "address"),
    (r"tel[eé]fono", "phone"),
    (r"hablar con (una persona|alguien)|una persona|alguien", "talk to a person"),
    (r"sí|si|claro|vale|de acuerdo|perfecto", "yes"),
    (r"gracias", "thanks"),
    (r"hola|buen[oa]s (días|dias|tardes|noches)", "hello"),
    (r"(el|la) primer[oa]|primer[oa]", "the first one"),
    (r"(el|la) segund[oa]|segund[oa]", "the second one"),
    (r"(el|la) tercer[oa]|tercer[oa]", "the third one"),
    (r"paciente nuevo|nuevo paciente|soy nuev[oa]", "new patient"),
    (r"mi hijo", "my son"),
    (r"mi hija", "my daughter"),
    (r"mis?", "my"),
    (r"quiero|quisiera|necesito", "i want"),
]
_COMPILED = [
    (re.compile(rf"(?<![\w]){pattern}(?![\w])", re.IGNORECASE), english)
    for pattern, english in _PHRASES
]


def spanish_read(text: str) -> str:
    """The Spanish words the dialogue acts on, in English; anything else as written."""
    for pattern, english in _COMPILED:
        text = pattern.sub(english, text)
    return text
