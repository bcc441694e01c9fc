"""What is said on the side of a task: office facts, refusals, small talk, emergencies and
handing the conversation to a person."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lexi.engines.offline.dates import when_parse
from lexi.engines.offline.slots import slot_keep
from lexi.engines.offline.turn import OFFER_COUNT, TurnBase
from lexi.engines.offline.understand import (
    Intent,
    asks_question,
    has_insurance_question,
    info_topics,
    life_threatening,
)
from lexi.tools.names import ToolName

__all__ = ["OfficeSteps"]

EMERGENCY_GUIDANCE = gettext_lazy(
    "I'm sorry! If you have trouble breathing or swallowing, or bleeding that won't stop, "
    "call 911 now."
)
KNOCKED_OUT_GUIDANCE = gettext_lazy("Keep the tooth in milk; don't scrub it.")
CALL_911_NOW = gettext_lazy(
    "If you are having trouble breathing or swallowing, call 911 or go to the nearest "
    "emergency room now."
)


def _sentence(text: str) -> str:
    return text.rstrip(" .") + "."


def _day_status(day: date, status: dict[str, Any]) -> str:
    named = f"{day:%a %b} {day.day}"
    if status.get("open"):
        return _("Yes, we're open on %(day)s.") % {"day": named}
    reason = status.get("closed_for")
    closed = _("We're closed on %(day)s") % {"day": named}
    return closed + (f" ({reason})." if reason else ".")


NO_APPOINTMENTS = "I don't see any upcoming appointments for this number. Want to book one?"


class OfficeSteps(TurnBase):
    def aside(self, intent: Intent | None, text: str) -> str:
        state = self.state
        if intent is Intent.INFO:
            answer = self.info(text)
        elif intent is Intent.INSURANCE:
            answer = self.insurance()
        elif intent is Intent.DIAGNOSIS:
            answer = _("I can't give a diagnosis or medical advice by text, but a dentist can.")
            if not state.awaiting:
                return answer + " " + self.ask("book_instead", _("Would you like to book a visit?"))
        elif intent is Intent.GREETING:
            answer = _("Hi!")
        elif intent is Intent.THANKS:
            if not state.awaiting:
                self.small_talk = True
                return _("You're welcome! Text us anytime.")
            answer = _("You're welcome!")
        elif intent is Intent.APPOINTMENTS:
            answer = ""
        else:
            self.stalled = True
            if state.awaiting:
                question = re.sub(r"^(Sorry|Lo siento), [^.?!]*[.?!]\s*", "", self.reprompt())
                return _("Sorry, I didn't catch that.") + " " + question
            self.small_talk = True
            return _(
                "I can help with appointments and questions about our office. "
                "What can I do for you?"
            )
        if state.awaiting:
            return f"{answer} {self.reprompt()}".strip()
        if intent is Intent.GREETING:
            self.small_talk = True
            return _("Hi! How can I help you today?")
        return answer

    def insurance(self) -> str:
        answer = _("I can't quote prices or insurance coverage by text.")
        if self.office_phone():
            answer += " " + _("Our team can help at %(phone)s.") % {"phone": self.office_phone()}
        return answer

    def side_answer(self, text: str) -> str:
        """The answer to an office or insurance question asked beside a request, or ""."""
        parts = []
        if info_topics(text) and asks_question(text):
            parts.append(self.info(text))
        if has_insurance_question(text):
            parts.append(self.insurance())
        return " ".join(parts)

    def info(self, text: str) -> str:
        topics = info_topics(text) or ["hours", "address"]
        day = self._day_asked(text) if "hours" in topics else None
        arguments = {"date": day.isoformat()} if day is not None else {}
        result = self.tool(ToolName.GET_OFFICE_INFO, **arguments)
        if not result.ok:
            return self.trouble(result)
        data = result.data
        phone = data.get("phone") or self.office_phone()
        parts = []
        if day is not None and "day" in data:
            parts.append(_day_status(day, data["day"]))
        for topic in topics:
            if topic == "hours":
                hours = " ".join(str(data.get("office_hours") or "").split())[:150]
                parts.append(
                    _sentence(_("Our hours: %(hours)s") % {"hours": hours})
                    if hours
                    else _("Please call %(phone)s.") % {"phone": phone}
                )
            elif topic == "address":
                address = data.get("address")
                parts.append(
                    _sentence(_("We're at %(address)s") % {"address": address})
                    if address
                    else _("Please call %(phone)s.") % {"phone": phone}
                )
            elif topic == "phone":
                parts.append(_("You can call us at %(phone)s.") % {"phone": phone})
            elif topic == "website":
                website = data.get("website")
                parts.append(f"Our website is {website}." if website else f"Call us at {phone}.")
        return " ".join(dict.fromkeys(parts))

    def _day_asked(self, text: str) -> date | None:
        """The one day a question like "are you open tomorrow?" is about, if it names one."""
        when = when_parse(text, today=self.today)
        if when is None or when.start is None or (when.end not in (None, when.start)):
            return None
        return when.start

    def human(self) -> str:
        self.state.flow_reset()
        self.handoff("Patient asked to talk to a person")
        answer = _("Sure. I've asked our team to get back to you shortly.")
        if self.office_phone():
            answer += " " + _("You can also call us at %(phone)s.") % {"phone": self.office_phone()}
        return answer

    def emergency(self, text: str) -> str:
        state = self.state
        self.call_911 = life_threatening(text)
        parts = [str(CALL_911_NOW if self.call_911 else EMERGENCY_GUIDANCE)]
        if re.search(r"\bknocked\b|\bfell out\b", text):
            parts.append(str(KNOCKED_OUT_GUIDANCE))
        emergency_type = self.emergency_type()
        slot = None
        if emergency_type:
            result = self.tool(ToolName.FIND_SLOTS, appointment_type=emergency_type, limit=1)
            slots = result.data.get("slots", []) if result.ok else []
            slot = slots[0] if slots else None
        # Staff are alerted either way; Lexi stays on to book the visit she offers (a "yes"
        # must reach her, not wait for staff), and hands over when she has none to offer.
        self.handoff(
            "Emergency: the patient reports urgent dental symptoms", keep_answering=slot is not None
        )
        parts.append(_("I've alerted our team."))
        state.flow_reset()
        if slot is None or emergency_type is None:
            if self.office_phone():
                parts.append(
                    _("Please call us at %(phone)s so we can see you as soon as possible.")
                    % {"phone": self.office_phone()}
                )
            else:
                parts.append(_("Please call us so we can see you as soon as possible."))
            return " ".join(parts)
        state.flow = "book"
        state.appointment_type = emergency_type
        state.offered = [slot_keep(slot)]
        state.chosen = state.offered[0]
        question = _(
            "Earliest emergency visit: %(when)s with %(provider)s. Want me to book it?"
        ) % {"when": slot["start_text"], "provider": slot["provider"]}
        return " ".join([*parts, self.ask("confirm", question)])

    def appointments_tell(self) -> str:
        result = self.tool(ToolName.LIST_APPOINTMENTS)
        if not result.ok:
            return self.trouble(result)
        upcoming = result.data.get("appointments", [])
        if not upcoming:
            return self.ask("book_instead", NO_APPOINTMENTS)
        lines = [
            f"{a['appointment_type']} on {a['start_text']} with {a['provider']}"
            for a in upcoming[:OFFER_COUNT]
        ]
        return "You have: " + "; ".join(lines) + "."
