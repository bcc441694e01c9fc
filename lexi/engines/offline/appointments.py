"""The tasks: booking a visit, and rescheduling or cancelling an upcoming one.

Booking and rescheduling share the slot steps (when → offers → choice → confirm → act); only
what is asked first and what `act` calls differ.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from lexi.engines.offline.dates import When, choice_pick, when_parse
from lexi.engines.offline.office import NO_APPOINTMENTS, OfficeSteps
from lexi.engines.offline.patients import PatientSteps
from lexi.engines.offline.slots import SlotSteps, when_merge
from lexi.engines.offline.turn import OFFER_COUNT, names_list
from lexi.engines.offline.understand import (
    ALSO_RIGHT_AFTER,
    Intent,
    appointment_type_pick,
    intent_detect,
    someone_named,
    yes_no,
)
from lexi.engines.offline.words import has
from lexi.tools.names import ToolName
from tenants.clock import time_for_patient

__all__ = ["AppointmentSteps", "long_text"]

_APPOINTMENT_KEYS = (
    "appointment_id",
    "patient_name",
    "appointment_type",
    "provider",
    "start",
    "start_text",
)


def long_text(start_iso: str) -> str:
    """'Tuesday, Dec 1 at 10:00 AM': day, date and time, for confirmations."""
    return time_for_patient(datetime.fromisoformat(start_iso), long=True)


class AppointmentSteps(PatientSteps, SlotSteps, OfficeSteps):
    # --- booking ----------------------------------------------------------------------------

    def book_start(self, text: str, *, appointment_type: str = "", follow: bool = False) -> str:
        state = self.state
        last = state.last_booked
        state.flow_reset()
        state.flow = "book"
        state.appointment_type = appointment_type
        someone = someone_named(self.raw)
        if someone is not None:
            # For a family member: find or register them on this phone, not the texter.
            state.for_relation, state.for_name = someone.relation, someone.name
            state.patient_id = state.patient_name = ""
        if follow and last and has(text, ALSO_RIGHT_AFTER):
            end = datetime.fromisoformat(last["end"])
            right_after = When(start=end.date(), end=end.date(), hour=end.hour, minute=end.minute)
            state.when = right_after.as_state()
        self._harvest(text)
        emergency_type = self.emergency_type()
        if emergency_type and state.appointment_type == emergency_type:
            return self.emergency(text)
        return self.book_next()

    def type_switch(self, text: str) -> str | None:
        """A change of mind about the kind of visit mid-booking: the new kind, same day wish."""
        state = self.state
        if not state.appointment_type or not has(
            text, r"\binstead\b|\bactually\b|\bmake it\b|\brather\b|\bchange (it|that)\b"
        ):
            return None
        picked = appointment_type_pick(text, types=self.types())
        if not picked or picked == state.appointment_type:
            return None
        state.appointment_type = picked
        state.offered, state.chosen, state.confirmed = [], None, False
        when = when_parse(text, today=self.today)
        if when is not None:
            state.when = when_merge(state.when, when).as_state()
        return f"Sure, a {picked} then. " + self.book_next()

    def person_switch(self, text: str) -> str | None:
        """A change of mind about who the visit is for, mid-booking: the rest stays."""
        state = self.state
        someone = someone_named(self.raw)
        if someone is None or not has(text, r"\bactually\b|\binstead\b|\bit is for\b|\bfor my\b"):
            return None
        if someone.name and someone.name == state.for_name:
            return None
        state.for_relation, state.for_name = someone.relation, someone.name
        state.patient_id = state.patient_name = ""
        state.chosen, state.confirmed = None, False
        return self.book_next()

    def _harvest(self, text: str) -> None:
        """Take whatever type and day/time preference this text gives."""
        state = self.state
        if state.flow == "book":
            picked = appointment_type_pick(text, types=self.types())
            if picked:
                state.appointment_type = picked
        when = when_parse(text, today=self.today)
        if when is not None:
            state.when = when_merge(state.when, when).as_state()

    def book_next(self) -> str:
        state = self.state
        question = self.identify()
        if question is not None:
            return question
        if not state.appointment_type:
            choices = [t for t in self.types() if t != self.emergency_type()]
            return self.ask(
                "type",
                _("What kind of visit would you like: %(choices)s?")
                % {"choices": names_list(choices)},
            )
        return self.slot_next()

    def step_type(self, text: str, raw: str) -> str | None:
        state = self.state
        picked = appointment_type_pick(text, types=self.types())
        if picked is None and len(raw) <= 60 and intent_detect(text) in (None, Intent.BOOK):
            # The office may know words we don't (its types' keywords): ask the tool.
            result = self.tool(ToolName.FIND_SLOTS, appointment_type=raw.strip()[:200], limit=1)
            picked = result.data.get("appointment_type") if result.ok else None
        if picked is None:
            return None
        state.appointment_type = picked
        if picked == self.emergency_type():
            return self.emergency(text)
        self._harvest(text)
        return self.book_next()

    def slot_next(self) -> str:
        """The part booking and rescheduling share: when → offers → choice → confirm → act."""
        state = self.state
        if state.chosen and state.confirmed:
            return self.act()
        if state.chosen:
            return self.ask("confirm", self._confirm_question(state.chosen))
        if not state.when:
            return self.ask("when", _("What day and time work best for you?"))
        return self.offer()

    def _confirm_question(self, slot: dict[str, Any]) -> str:
        state = self.state
        if state.flow == "reschedule":
            return _("To confirm: move your %(type)s to %(when)s with %(provider)s?") % {
                "type": state.appointment_type,
                "when": slot["start_text"],
                "provider": slot["provider"],
            }
        return _("To confirm: %(type)s on %(when)s with %(provider)s. Shall I book it?") % {
            "type": state.appointment_type,
            "when": slot["start_text"],
            "provider": slot["provider"],
        }

    def act(self) -> str:
        state = self.state
        slot = state.chosen or {}
        if state.flow == "reschedule" and state.appointment:
            result = self.tool(
                ToolName.RESCHEDULE_APPOINTMENT,
                appointment_id=state.appointment["appointment_id"],
                slot_id=slot["slot_id"],
            )
        else:
            extra = {"another_visit": True} if state.another_visit else {}
            result = self.tool(
                ToolName.BOOK_APPOINTMENT,
                slot_id=slot["slot_id"],
                patient_id=state.patient_id,
                **extra,
            )
        if result.error == "repeat_visit":
            return self._repeat_question()
        if result.ok:
            data = result.data
            done = _("You're booked!") if state.flow == "book" else _("Done, it's moved!")
            if state.flow == "book":
                state.last_booked = {"type": data["appointment_type"], "end": data["end"]}
                if state.for_name:
                    done = _("You're booked for %(name)s!") % {"name": state.for_name}
            state.flow_reset()
            return (
                done
                + " "
                + _("%(type)s on %(when)s with %(provider)s. See you then!")
                % {
                    "type": data["appointment_type"],
                    "when": long_text(data["start"]),
                    "provider": data["provider"],
                }
            )
        if result.error in ("slot_taken", "invalid_slot"):
            state.offered = []
            return _("Sorry, that time was just taken.") + " " + self.offer()
        if result.error == "patient_busy":
            state.offered = []
            return "You already have an appointment at that time. " + self.offer()
        if result.error == "patient_not_found":
            state.patient_id = ""
            state.identified = False
            state.confirmed = False
            return self.flow_next()
        return self.trouble(result)

    def _repeat_question(self) -> str:
        """The patient already has this kind of visit close by: move it, or a second one?"""
        state = self.state
        result = self.tool(ToolName.LIST_APPOINTMENTS)
        upcoming = result.data.get("appointments", []) if result.ok else []
        same = [a for a in upcoming if a.get("appointment_type") == state.appointment_type]
        if not same:
            return self.trouble(result)
        state.appointment = {k: same[0].get(k) for k in _APPOINTMENT_KEYS}
        return self.ask(
            "repeat",
            f"Do you want to move your {same[0]['appointment_type']} on "
            f"{same[0]['start_text']}, or book another visit?",
        )

    def step_repeat(self, text: str, raw: str) -> str | None:
        state = self.state
        if re.search(r"\b(another|both|new|second|extra|also|additional|as well)\b", text):
            state.another_visit = True
            return self.act()
        if re.search(r"\b(move|change|reschedule|switch|instead|that one|replace)\b", text):
            state.flow = "reschedule"
            state.confirmed = False
            return self.ask("confirm", self._confirm_question(state.chosen or {}))
        return None

    # --- rescheduling and cancelling ---------------------------------------------------------

    def change_start(self, flow: str, text: str) -> str:
        state = self.state
        state.flow_reset()
        state.flow = flow
        when = when_parse(text, today=self.today)
        if when is not None:
            state.when = when.as_state()
        result = self.tool(ToolName.LIST_APPOINTMENTS)
        if not result.ok:
            return self.trouble(result)
        state.appointments = [
            {k: a.get(k) for k in _APPOINTMENT_KEYS} for a in result.data.get("appointments", [])
        ]
        if not state.appointments:
            state.flow_reset()
            return self.ask("book_instead", NO_APPOINTMENTS)
        if len(state.appointments) == 1:
            state.appointment = state.appointments[0]
            return self.change_next()
        reminded = self.context.reminder_about.get("appointment_id")
        index = next(
            (i for i, a in enumerate(state.appointments) if a["appointment_id"] == reminded), None
        )
        if index is None:
            index = choice_pick(text, options=state.appointments, today=self.today)
        if index is not None:
            state.appointment = state.appointments[index]
            return self.change_next()
        lines = " ".join(
            f"{i}) {a['patient_name'].split()[0]}'s {a['appointment_type']} {a['start_text']}"
            for i, a in enumerate(state.appointments[:OFFER_COUNT], start=1)
        )
        return self.ask("appointment", f"Which appointment? {lines}")

    def step_appointment(self, text: str, raw: str) -> str | None:
        state = self.state
        index = choice_pick(text, options=state.appointments[:OFFER_COUNT], today=self.today)
        if index is None:
            by_type = [
                i
                for i, a in enumerate(state.appointments[:OFFER_COUNT])
                if a["appointment_type"].lower() in text
                or a["patient_name"].split()[0].lower() in text
            ]
            index = by_type[0] if len(by_type) == 1 else None
        if index is None:
            return None
        state.appointment = state.appointments[index]
        return self.change_next()

    def change_next(self) -> str:
        state = self.state
        appointment = state.appointment or {}
        what = _("%(type)s on %(when)s") % {
            "type": appointment["appointment_type"],
            "when": appointment["start_text"],
        }
        if state.flow == "cancel":
            return self.ask(
                "cancel_confirm",
                _(
                    "Cancel your %(what)s with %(provider)s? Reply yes to cancel it or no to "
                    "keep it."
                )
                % {"what": what, "provider": appointment["provider"]},
            )
        state.appointment_type = appointment["appointment_type"]
        if not state.when and not state.chosen:
            return self.ask(
                "when",
                _(
                    "Your %(type)s is %(when)s with %(provider)s. What day and time would work "
                    "better?"
                )
                % {
                    "type": appointment["appointment_type"],
                    "when": appointment["start_text"],
                    "provider": appointment["provider"],
                },
            )
        return self.slot_next()

    def step_cancel_confirm(self, text: str, raw: str) -> str | None:
        state = self.state
        appointment = state.appointment or {}
        answer = yes_no(text)
        if answer is None and re.search(r"\bcancel\b", text) and not re.search(r"\bnot\b", text):
            answer = True
        if answer is None:
            return None
        what = _("%(type)s on %(when)s") % {
            "type": appointment["appointment_type"],
            "when": appointment["start_text"],
        }
        if answer is False:
            state.flow_reset()
            return _("OK, I've kept your %(what)s. Anything else I can help with?") % {"what": what}
        result = self.tool(
            ToolName.CANCEL_APPOINTMENT,
            appointment_id=appointment["appointment_id"],
            reason="Patient asked by text",
        )
        if not result.ok:
            return self.trouble(result)
        state.flow_reset()
        state.appointment_type = appointment["appointment_type"]
        return (
            _("Done, your %(what)s is cancelled.") % {"what": what}
            + " "
            + self.ask("book_instead", _("Would you like to book a new time?"))
        )

    def step_book_instead(self, text: str, raw: str) -> str | None:
        state = self.state
        answer = yes_no(text)
        if answer is None and intent_detect(text) is Intent.BOOK:
            answer = True
        if answer is None and when_parse(text, today=self.today) is not None:
            answer = True
        if answer is None:
            return None
        if answer is False:
            state.flow_reset()
            return "OK! Anything else I can help with?"
        return self.book_start(text, appointment_type=state.appointment_type)
