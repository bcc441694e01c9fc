"""Who the visit is for: the patients on the texting phone, a pick among family, or a new one."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from lexi.engines.offline.dates import dob_parse, index_pick
from lexi.engines.offline.turn import TurnBase, names_list
from lexi.engines.offline.understand import intent_detect, name_parse, yes_no
from lexi.tools.names import ToolName

__all__ = ["PatientSteps"]

_PATIENT_KEYS = ("patient_id", "first_name", "last_name")


class PatientSteps(TurnBase):
    def identify(self) -> str | None:
        """None once we know the patient; else the question that gets us there."""
        state = self.state
        if state.patient_id:
            return None
        if not state.identified:
            result = self.tool(ToolName.FIND_PATIENT)
            if not result.ok:
                return self.trouble(result)
            state.identified = True
            state.candidates = [
                {k: p.get(k) for k in _PATIENT_KEYS} for p in result.data.get("patients", [])
            ]
            if len(state.candidates) == 1 and not (state.for_name or state.for_relation):
                self._patient_set(state.candidates[0])
                return None
        if state.for_name or (state.for_relation and len(state.candidates) <= 1):
            return self._family_member()
        if len(state.candidates) > 1:
            names = names_list([c["first_name"] for c in state.candidates])
            return self.ask(
                "patient",
                _("I see %(names)s on this number. Who is the visit for?") % {"names": names},
            )
        return self.ask(
            "first_name",
            _(
                "I don't see this number in our records yet. What's the patient's first and "
                "last name?"
            ),
        )

    def _family_member(self) -> str | None:
        """The visit is for someone else on this phone ("my son Max"): find or register them."""
        state = self.state
        name = state.for_name
        if not name:
            relation = state.for_relation
            state.for_relation = ""  # asked once; the answer is a name like any other
            return self.ask("first_name", f"Sure. What's your {relation}'s first and last name?")
        matches = [c for c in state.candidates if c["first_name"].lower() == name.lower()]
        if len(matches) == 1:
            self._patient_set(matches[0])
            return None
        state.reg_first = name
        last_names = {c["last_name"] for c in state.candidates if c.get("last_name")}
        if len(last_names) == 1:
            state.reg_last = last_names.pop()
            return self.ask(
                "dob", f"I'll add {name} {state.reg_last}. What's {name}'s date of birth?"
            )
        return self.ask("last_name", f"And {name}'s last name?")

    def _patient_set(self, patient: dict[str, Any]) -> None:
        self.state.patient_id = str(patient["patient_id"])
        self.state.patient_name = f"{patient['first_name']} {patient['last_name']}".strip()

    def step_patient(self, text: str, raw: str) -> str | None:
        state = self.state
        words = set(re.findall(r"[a-z']+", raw.lower()))
        matches = [c for c in state.candidates if c["first_name"].lower() in words]
        if len(matches) != 1:
            index = index_pick(text, len(state.candidates))
            matches = [state.candidates[index]] if index is not None else []
        if len(matches) == 1:
            self._patient_set(matches[0])
            thanks = _("Thanks, %(name)s!") % {"name": matches[0]["first_name"]}
            return f"{thanks} {self.flow_next()}"
        if re.search(r"\bnew\b|\bsomeone else\b|\bnot (listed|there)\b|\bneither\b", text):
            return self.ask("first_name", "Sure. What's the patient's first and last name?")
        first, last = name_parse(raw)
        if first and yes_no(text) is None and intent_detect(text) is None:
            state.reg_first, state.reg_last = first, last
            return self._registration_next(raw)
        return None

    def step_first_name(self, text: str, raw: str) -> str | None:
        if intent_detect(text) is not None or yes_no(text) is not None:
            return None
        first, last = name_parse(raw)
        if not first:
            return None
        self.state.reg_first, self.state.reg_last = first, last
        return self._registration_next(raw)

    def step_last_name(self, text: str, raw: str) -> str | None:
        first, last = name_parse(raw)
        if not first or intent_detect(text) is not None:
            return None
        self.state.reg_last = f"{first} {last}".strip()
        return self._registration_next(raw)

    def step_dob(self, text: str, raw: str) -> str | None:
        if dob_parse(raw, today=self.today) is None:
            if intent_detect(text) is not None:
                return None
            self.stalled = True
            return self.ask(
                "dob", _("Sorry, I couldn't read that. What's the date of birth, like 3/14/1985?")
            )
        return self._registration_next(raw)

    def _registration_next(self, raw: str) -> str:
        state = self.state
        if not state.reg_last:
            return self.ask(
                "last_name", _("Thanks, %(name)s. And the last name?") % {"name": state.reg_first}
            )
        born = dob_parse(raw, today=self.today)
        if born is None:
            return self.ask(
                "dob",
                _("Thanks, %(name)s. What's the date of birth? (e.g. 3/14/1985)")
                % {"name": state.reg_first},
            )
        result = self.tool(
            ToolName.REGISTER_PATIENT,
            first_name=state.reg_first,
            last_name=state.reg_last,
            date_of_birth=born.isoformat(),
        )
        if not result.ok:
            if result.error in ("invalid_arguments", "invalid_patient"):
                return self.ask(
                    "first_name", "Sorry, I couldn't save that. What's the first and last name?"
                )
            return self.trouble(result)
        patient = result.data
        state.candidates.append({k: patient.get(k) for k in _PATIENT_KEYS})
        self._patient_set(patient)
        state.reg_first = state.reg_last = ""
        recorded = _("Thanks, %(name)s, you're in our records now.") % {
            "name": patient["first_name"]
        }
        return f"{recorded} {self.flow_next()}"
