"""The offline receptionist's dialogue: one patient text in, one short SMS reply out.

Slot filling over `State`: each text may fill several blanks at once ("a cleaning tomorrow
morning"), and the next reply asks for the first blank still missing, one question at a time.
Every action goes through `lexi.tools.tool_run`, so it is validated, tenant-scoped and logged
exactly like the model's. This module only routes a text to its step: who the visit is for
(patients.py), when (slots.py), the tasks (appointments.py), and everything said on the side
(office.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

from lexi.engines.offline.appointments import AppointmentSteps
from lexi.engines.offline.understand import (
    ALSO_RIGHT_AFTER,
    Intent,
    intent_detect,
    moves_visit,
    someone_named,
    text_normalize,
    wants_booking,
)
from lexi.engines.offline.words import has

__all__ = ["Turn"]

# While Lexi waits for a name, the text is not typo-corrected: "Hope Paine" is a patient.
NAME_STEPS = frozenset({"patient", "first_name", "last_name"})


class Turn(AppointmentSteps):
    """One patient text handled against the saved state. Mutates `state`; the caller saves it."""

    def respond(self, raw: str) -> str:
        state = self.state
        self.raw = raw
        text = text_normalize(raw, correct=state.awaiting not in NAME_STEPS)
        intent = intent_detect(text)
        asked = self.context.reminder_about.get("action", "")
        if asked in ("reschedule", "cancel") and state.flow != asked:
            return self.change_start(asked, text)
        if intent is Intent.EMERGENCY:
            return self.emergency(text)
        if intent is Intent.HUMAN:
            return self.human()
        if state.flow == "book" and (switched := self.type_switch(text)) is not None:
            return switched  # "make it a checkup instead"
        if state.flow == "book" and (switched := self.person_switch(text)) is not None:
            return switched  # "actually it's for my son Max"
        if state.awaiting == "repeat" and (answer := self.step_repeat(text, raw)) is not None:
            return answer  # "move it" answers the question, it does not start over
        if intent is Intent.STOP and state.flow == "cancel" and "cancel" in text:
            intent = Intent.CANCEL
        if intent is Intent.STOP and (state.flow or state.awaiting):
            state.flow_reset()
            return _("No problem, I've stopped there. Anything else I can help with?")
        if intent is Intent.CANCEL and state.flow != "cancel" and self._cancel_meant(text):
            return self._beside(text, self.change_start("cancel", text))
        if intent is Intent.RESCHEDULE and state.flow != "reschedule":
            return self._beside(text, self.change_start("reschedule", text))
        if not state.flow and not state.awaiting and moves_visit(text):
            # "anything sooner?" from a patient with a visit is about that visit.
            return self.change_start("reschedule", text)
        if (
            not state.flow
            and not state.awaiting
            and state.last_booked
            and someone_named(raw)
            and has(text, ALSO_RIGHT_AFTER)
        ):
            # "and his brother Theo too, right after": the same kind of visit, next in line.
            return self.book_start(text, appointment_type=state.last_booked["type"], follow=True)
        if intent is Intent.BOOK and not state.flow and state.awaiting != "book_instead":
            return self.book_start(text)
        if intent is Intent.APPOINTMENTS and not state.awaiting:
            return self.appointments_tell()
        if (
            intent in (Intent.INFO, Intent.INSURANCE)
            and not state.flow
            and not state.awaiting
            and wants_booking(text)
        ):
            # Two things in one text: answer the question, then get on with the visit.
            return self._beside(text, self.book_start(text))
        if state.awaiting:
            answer = self.step(state.awaiting, text, raw)
            if answer is not None:
                return answer
        return self.aside(intent, text)

    def _beside(self, text: str, reply: str) -> str:
        """`reply` to the request, after the answer to a question asked in the same text."""
        side = self.side_answer(text)
        return f"{side} {reply}" if side else reply

    def _cancel_meant(self, text: str) -> bool:
        """In the middle of booking, a bare 'cancel' stops the booking rather than a visit."""
        if not self.state.flow:
            return True
        return bool(re.search(r"\b(appointment|visit|booking|my)\b", text))

    def step(self, awaiting: str, text: str, raw: str) -> str | None:
        """The answer to the question asked last; None if the text does not answer it."""
        steps: dict[str, Callable[[str, str], str | None]] = {
            "patient": self.step_patient,
            "first_name": self.step_first_name,
            "last_name": self.step_last_name,
            "dob": self.step_dob,
            "type": self.step_type,
            "when": self.step_when,
            "slot": self.step_slot,
            "confirm": self.step_confirm,
            "appointment": self.step_appointment,
            "cancel_confirm": self.step_cancel_confirm,
            "book_instead": self.step_book_instead,
            "repeat": self.step_repeat,
        }
        handler = steps.get(awaiting)
        return handler(text, raw) if handler else None

    def flow_next(self) -> str:
        if self.state.flow == "book":
            return self.book_next()
        if self.state.flow in ("reschedule", "cancel"):
            return self.change_next()
        self.state.flow_reset()
        return _("How else can I help?")
