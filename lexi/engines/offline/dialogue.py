"""The offline receptionist's dialogue: one patient text in, one short SMS reply out.

Slot filling over `State`: each text may fill several blanks at once ("a cleaning tomorrow
morning"), and the next reply asks for the first blank still missing, one question at a time.
Every action goes through `lexi.tools.tool_run`, so it is validated, tenant-scoped and logged
exactly like the model's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from lexi.context import TurnContext
from lexi.engines.offline.dates import When, choice_pick, dob_parse, index_pick, when_parse
from lexi.engines.offline.state import State
from lexi.engines.offline.understand import (
    Intent,
    appointment_type_pick,
    info_topics,
    intent_detect,
    name_parse,
    text_normalize,
    wants_earlier,
    wants_later,
    yes_no,
)
from lexi.tools import ToolResult, tool_run

__all__ = ["MAX_SMS_CHARS", "Turn"]

MAX_SMS_CHARS = 320
OFFER_COUNT = 3
SEARCH_LIMIT = 10
SPREAD = timedelta(minutes=60)
PART_FOR_HOUR = ((12, "morning"), (17, "afternoon"), (24, "evening"))

# Shorter re-asks, for when the question itself would push a reply past one SMS screen.
SHORT_PROMPTS = {
    "slot": "Which of those times works for you?",
    "appointment": "Which appointment do you mean?",
    "confirm": "Shall I go ahead?",
    "cancel_confirm": "Reply yes to cancel it or no to keep it.",
}
EMERGENCY_GUIDANCE = (
    "I'm sorry! If you have trouble breathing or swallowing, or bleeding that won't stop, "
    "call 911 now."
)
KNOCKED_OUT_GUIDANCE = "Keep the tooth in milk; don't scrub it."


def long_text(start_iso: str) -> str:
    """'Tuesday, Dec 1 at 10:00 AM': day, date and time, for confirmations."""
    local = datetime.fromisoformat(start_iso)
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{local:%A}, {local:%b} {local.day} at {hour}:{local:%M} {meridiem}"


def _part_for_hour(hour: int) -> str:
    return next(part for limit, part in PART_FOR_HOUR if hour < limit)


def _names_list(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _spread(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Offer times an hour apart where possible (8:00, 9:00, 10:00 rather than 8:00, 8:30...)."""
    picked: list[dict[str, Any]] = []
    for slot in slots:
        at = datetime.fromisoformat(slot["start"])
        if all(abs(at - datetime.fromisoformat(p["start"])) >= SPREAD for p in picked):
            picked.append(slot)
    rest = [s for s in slots if s not in picked]
    return sorted(
        picked[:OFFER_COUNT] + rest[: max(0, OFFER_COUNT - len(picked))], key=lambda s: s["start"]
    )


def _when_merge(old: dict[str, Any] | None, new: When) -> When:
    """A follow-up like '2pm works' keeps the day asked for before, and vice versa."""
    if old is None:
        return new
    merged = When.from_state(old)
    if new.start is not None or new.asap:
        merged.start, merged.end, merged.asap = new.start, new.end, new.asap
    if new.hour is not None or new.part_of_day is not None:
        merged.part_of_day, merged.hour = new.part_of_day, new.hour
        merged.minute, merged.time_op = new.minute, new.time_op
    return merged


@dataclass
class Turn:
    """One patient text handled against the saved state. Mutates `state`; the caller saves it."""

    context: TurnContext
    state: State
    tool_calls: int = 0
    flagged: bool = False
    small_talk: bool = False  # the text asked for nothing: a first reply is the bare greeting
    today: date = field(init=False)

    def __post_init__(self) -> None:
        self.today = self.context.now.date()

    # --- plumbing ---------------------------------------------------------------------------

    def tool(self, name: str, **arguments: Any) -> ToolResult:
        self.tool_calls += 1
        result = tool_run(context=self.context, name=name, arguments=arguments)
        if name == "hand_off_to_staff" and result.ok:
            self.flagged = True
        return result

    def ask(self, awaiting: str, question: str) -> str:
        self.state.awaiting = awaiting
        self.state.question = question
        return question

    def office_phone(self) -> str:
        return self.context.organization.phone

    def trouble(self, result: ToolResult) -> str:
        """A tool failed in a way the patient cannot fix: hand over to the staff."""
        self.state.flow_reset()
        self.handoff(f"Lexi could not complete a request ({result.name}: {result.error})")
        call = f" or call us at {self.office_phone()}" if self.office_phone() else ""
        return f"Sorry, I couldn't finish that by text. Our team will follow up{call}."

    def handoff(self, reason: str) -> bool:
        result = self.tool("hand_off_to_staff", reason=reason)
        self.state.handed_off = self.state.handed_off or result.ok
        return result.ok

    def types(self) -> list[str]:
        if not self.state.types:
            result = self.tool("get_office_info")
            if result.ok:
                self.state.types = list(result.data.get("appointment_types", []))
                self.state.providers = list(result.data.get("providers", []))
        return self.state.types

    def providers(self) -> list[str]:
        self.types()
        return self.state.providers

    def emergency_type(self) -> str | None:
        return next((t for t in self.types() if re.search(r"emerg|urgent", t.lower())), None)

    def reprompt(self) -> str:
        question = self.state.question
        if len(question) > 120:
            return SHORT_PROMPTS.get(self.state.awaiting, question)
        return question

    # --- entry ------------------------------------------------------------------------------

    def respond(self, raw: str) -> str:
        text = text_normalize(raw)
        intent = intent_detect(text)
        state = self.state
        if intent is Intent.EMERGENCY:
            return self.emergency(text)
        if intent is Intent.HUMAN:
            return self.human()
        if intent is Intent.STOP and state.flow == "cancel" and "cancel" in text:
            intent = Intent.CANCEL
        if intent is Intent.STOP and (state.flow or state.awaiting):
            state.flow_reset()
            return "No problem, I've stopped there. Anything else I can help with?"
        if intent is Intent.CANCEL and state.flow != "cancel" and self._cancel_meant(text):
            return self.change_start("cancel", text)
        if intent is Intent.RESCHEDULE and state.flow != "reschedule":
            return self.change_start("reschedule", text)
        if intent is Intent.BOOK and not state.flow and state.awaiting != "book_instead":
            return self.book_start(text)
        if intent is Intent.APPOINTMENTS and not state.awaiting:
            return self.appointments_tell()
        if state.awaiting:
            answer = self.step(state.awaiting, text, raw)
            if answer is not None:
                return answer
        return self.aside(intent, text)

    def _cancel_meant(self, text: str) -> bool:
        """In the middle of booking, a bare 'cancel' stops the booking rather than a visit."""
        if not self.state.flow:
            return True
        return bool(re.search(r"\b(appointment|visit|booking|my)\b", text))

    def step(self, awaiting: str, text: str, raw: str) -> str | None:
        handler = {
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
        }.get(awaiting)
        return handler(text, raw) if handler else None

    def flow_next(self) -> str:
        if self.state.flow == "book":
            return self.book_next()
        if self.state.flow in ("reschedule", "cancel"):
            return self.change_next()
        self.state.flow_reset()
        return "How else can I help?"

    # --- things said on the side: office facts, refusals, small talk -------------------------

    def aside(self, intent: Intent | None, text: str) -> str:
        state = self.state
        if intent is Intent.INFO:
            answer = self.info(text)
        elif intent is Intent.INSURANCE:
            call = f" Our team can help at {self.office_phone()}." if self.office_phone() else ""
            answer = f"I can't quote prices or insurance coverage by text.{call}"
        elif intent is Intent.DIAGNOSIS:
            answer = "I can't give a diagnosis or medical advice by text, but a dentist can."
            if not state.awaiting:
                return answer + " " + self.ask("book_instead", "Would you like to book a visit?")
        elif intent is Intent.GREETING:
            answer = "Hi!"
        elif intent is Intent.THANKS:
            if not state.awaiting:
                self.small_talk = True
                return "You're welcome! Text us anytime."
            answer = "You're welcome!"
        elif intent is Intent.APPOINTMENTS:
            answer = ""
        else:
            if state.awaiting:
                return f"Sorry, I didn't catch that. {self.reprompt()}"
            self.small_talk = True
            return (
                "I can help with appointments and questions about our office. "
                "What can I do for you?"
            )
        if state.awaiting:
            return f"{answer} {self.reprompt()}".strip()
        if intent is Intent.GREETING:
            self.small_talk = True
            return "Hi! How can I help you today?"
        return answer

    def info(self, text: str) -> str:
        result = self.tool("get_office_info")
        if not result.ok:
            return self.trouble(result)
        data = result.data
        phone = data.get("phone") or self.office_phone()
        parts = []
        for topic in info_topics(text) or ["hours", "address"]:
            if topic == "hours":
                hours = " ".join(str(data.get("office_hours") or "").split())[:150]
                parts.append(f"Our hours: {hours}." if hours else f"Please call {phone}.")
            elif topic == "address":
                address = data.get("address")
                parts.append(f"We're at {address}." if address else f"Please call {phone}.")
            elif topic == "phone":
                parts.append(f"You can call us at {phone}.")
            elif topic == "website":
                website = data.get("website")
                parts.append(f"Our website is {website}." if website else f"Call us at {phone}.")
        return " ".join(dict.fromkeys(parts))

    def human(self) -> str:
        self.state.flow_reset()
        self.handoff("Patient asked to talk to a person")
        call = f" You can also call us at {self.office_phone()}." if self.office_phone() else ""
        return f"Sure. I've asked our team to get back to you shortly.{call}"

    def emergency(self, text: str) -> str:
        state = self.state
        parts = [EMERGENCY_GUIDANCE]
        if re.search(r"\bknocked\b|\bfell out\b", text):
            parts.append(KNOCKED_OUT_GUIDANCE)
        self.handoff("Emergency: the patient reports urgent dental symptoms")
        parts.append("I've alerted our team.")
        emergency_type = self.emergency_type()
        slot = None
        if emergency_type:
            result = self.tool("find_slots", appointment_type=emergency_type, limit=1)
            slots = result.data.get("slots", []) if result.ok else []
            slot = slots[0] if slots else None
        state.flow_reset()
        if slot is None or emergency_type is None:
            call = f" at {self.office_phone()}" if self.office_phone() else ""
            parts.append(f"Please call us{call} so we can see you as soon as possible.")
            return " ".join(parts)
        state.flow = "book"
        state.appointment_type = emergency_type
        state.offered = [self._slot_keep(slot)]
        state.chosen = state.offered[0]
        question = (
            f"Earliest emergency visit: {slot['start_text']} with {slot['provider']}. "
            "Want me to book it?"
        )
        return " ".join([*parts, self.ask("confirm", question)])

    def appointments_tell(self) -> str:
        result = self.tool("list_appointments")
        if not result.ok:
            return self.trouble(result)
        upcoming = result.data.get("appointments", [])
        if not upcoming:
            return self.ask(
                "book_instead",
                "I don't see any upcoming appointments for this number. Want to book one?",
            )
        lines = [
            f"{a['appointment_type']} on {a['start_text']} with {a['provider']}"
            for a in upcoming[:3]
        ]
        return "You have: " + "; ".join(lines) + "."

    # --- who: identify by phone, pick among family, or register ------------------------------

    def identify(self) -> str | None:
        """None once we know the patient; else the question that gets us there."""
        state = self.state
        if state.patient_id:
            return None
        if not state.identified:
            result = self.tool("find_patient")
            if not result.ok:
                return self.trouble(result)
            state.identified = True
            state.candidates = [
                {k: p.get(k) for k in ("patient_id", "first_name", "last_name")}
                for p in result.data.get("patients", [])
            ]
            if len(state.candidates) == 1:
                self._patient_set(state.candidates[0])
                return None
        if len(state.candidates) > 1:
            names = _names_list([c["first_name"] for c in state.candidates])
            return self.ask("patient", f"I see {names} on this number. Who is the visit for?")
        return self.ask(
            "first_name",
            "I don't see this number in our records yet. What's the patient's first and last name?",
        )

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
            return f"Thanks, {matches[0]['first_name']}! {self.flow_next()}"
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
            return self.ask(
                "dob", "Sorry, I couldn't read that. What's the date of birth, like 3/14/1985?"
            )
        return self._registration_next(raw)

    def _registration_next(self, raw: str) -> str:
        state = self.state
        if not state.reg_last:
            return self.ask("last_name", f"Thanks, {state.reg_first}. And the last name?")
        born = dob_parse(raw, today=self.today)
        if born is None:
            return self.ask(
                "dob", f"Thanks, {state.reg_first}. What's the date of birth? (e.g. 3/14/1985)"
            )
        result = self.tool(
            "register_patient",
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
        state.candidates.append(
            {k: patient.get(k) for k in ("patient_id", "first_name", "last_name")}
        )
        self._patient_set(patient)
        state.reg_first = state.reg_last = ""
        return f"Thanks, {patient['first_name']}, you're in our records now. {self.flow_next()}"

    # --- booking ----------------------------------------------------------------------------

    def book_start(self, text: str, *, appointment_type: str = "") -> str:
        state = self.state
        state.flow_reset()
        state.flow = "book"
        state.appointment_type = appointment_type
        self._harvest(text)
        emergency_type = self.emergency_type()
        if emergency_type and state.appointment_type == emergency_type:
            return self.emergency(text)
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
            state.when = _when_merge(state.when, when).as_state()

    def book_next(self) -> str:
        state = self.state
        question = self.identify()
        if question is not None:
            return question
        if not state.appointment_type:
            choices = [t for t in self.types() if t != self.emergency_type()]
            return self.ask("type", f"What kind of visit would you like: {_names_list(choices)}?")
        return self.slot_next()

    def slot_next(self) -> str:
        """The part booking and rescheduling share: when → offers → choice → confirm → act."""
        state = self.state
        if state.chosen and state.confirmed:
            return self.act()
        if state.chosen:
            return self.ask("confirm", self._confirm_question(state.chosen))
        if not state.when:
            return self.ask("when", "What day and time work best for you?")
        return self.offer()

    def _confirm_question(self, slot: dict[str, Any]) -> str:
        state = self.state
        if state.flow == "reschedule":
            return (
                f"To confirm: move your {state.appointment_type} to {slot['start_text']} "
                f"with {slot['provider']}?"
            )
        return (
            f"To confirm: {state.appointment_type} on {slot['start_text']} with "
            f"{slot['provider']}. Shall I book it?"
        )

    def step_type(self, text: str, raw: str) -> str | None:
        state = self.state
        picked = appointment_type_pick(text, types=self.types())
        if picked is None and len(raw) <= 60 and intent_detect(text) in (None, Intent.BOOK):
            # The office may know words we don't (its types' keywords): ask the tool.
            result = self.tool("find_slots", appointment_type=raw.strip()[:200], limit=1)
            picked = result.data.get("appointment_type") if result.ok else None
        if picked is None:
            return None
        state.appointment_type = picked
        if picked == self.emergency_type():
            return self.emergency(text)
        self._harvest(text)
        return self.book_next()

    def step_when(self, text: str, raw: str) -> str | None:
        when = when_parse(text, today=self.today)
        if when is None:
            if yes_no(text) is True:
                when = When(asap=True)
            else:
                return None
        self.state.when = _when_merge(self.state.when, when).as_state()
        self.state.offered = []
        return self.flow_next()

    def step_slot(self, text: str, raw: str) -> str | None:
        state = self.state
        index = choice_pick(text, options=state.offered, today=self.today)
        if index is not None:
            state.chosen = state.offered[index]
            return self.flow_next()
        answer = yes_no(text)
        if answer is False:
            return self.declined(text)
        when = when_parse(text, today=self.today)
        if when is not None:
            state.when = _when_merge(state.when, when).as_state()
            return self.offer()
        if answer is True:
            if len(state.offered) == 1:
                state.chosen = state.offered[0]
                return self.flow_next()
            numbers = _names_list([str(i + 1) for i in range(len(state.offered))])
            return self.ask("slot", f"Great. Which one: {numbers}?")
        return None

    def step_confirm(self, text: str, raw: str) -> str | None:
        state = self.state
        if len(state.offered) > 1:
            index = choice_pick(text, options=state.offered, today=self.today)
            if index is not None and state.offered[index] != state.chosen:
                state.chosen = state.offered[index]
                return self.flow_next()
        answer = yes_no(text)
        if answer is True:
            state.confirmed = True
            return self.flow_next()
        if answer is False:
            return self.declined(text)
        when = when_parse(text, today=self.today)
        if when is not None:
            state.chosen = None
            state.when = _when_merge(state.when, when).as_state()
            return self.offer()
        return None

    def declined(self, text: str) -> str:
        """'No' to an offer: later ones, earlier ones, another day, or ask again."""
        state = self.state
        state.chosen = None
        state.confirmed = False
        when = when_parse(text, today=self.today)
        if wants_later(text) and state.offered:
            return self.offer(after=max(s["start"] for s in state.offered))
        if wants_earlier(text):
            state.when = When(asap=True).as_state()
            return self.offer()
        if when is not None:
            state.when = _when_merge(state.when, when).as_state()
            return self.offer()
        state.offered = []
        state.when = None
        return self.ask("when", "No problem. What day or time would work better?")

    # --- offering slots ---------------------------------------------------------------------

    @staticmethod
    def _slot_keep(slot: dict[str, Any]) -> dict[str, Any]:
        return {k: slot.get(k) for k in ("slot_id", "start", "start_text", "provider")}

    def _search(
        self, when: When, *, start: date | None = None, per_provider: bool = False
    ) -> list[dict[str, Any]] | None:
        """Free slots for the preference; None if the tool failed.

        The tool returns the earliest few of a range; to reach a given hour of a day with
        several providers, `per_provider` asks once per provider.
        """
        providers = self.providers() if per_provider else []
        if len(providers) > 1:
            found: list[dict[str, Any]] = []
            for provider in providers:
                slots = self._search_one(when, start=start, provider=provider)
                if slots is None:
                    return None
                found.extend(slots)
            return sorted(found, key=lambda s: (s["start"], s["provider"]))
        return self._search_one(when, start=start)

    def _search_one(
        self, when: When, *, start: date | None = None, provider: str = ""
    ) -> list[dict[str, Any]] | None:
        arguments: dict[str, Any] = {
            "appointment_type": self.state.appointment_type,
            "limit": SEARCH_LIMIT,
        }
        first_day = start or when.start
        if first_day is not None:
            arguments["start_date"] = first_day.isoformat()
        if when.end is not None and (first_day is None or when.end >= first_day):
            arguments["end_date"] = when.end.isoformat()
        part = when.part_of_day or (_part_for_hour(when.hour) if when.hour is not None else None)
        if part:
            arguments["part_of_day"] = part
        if provider:
            arguments["provider"] = provider
        result = self.tool("find_slots", **arguments)
        if not result.ok:
            return None
        return list(result.data.get("slots", []))

    def offer(self, *, after: str | None = None) -> str:
        state = self.state
        state.chosen = None
        state.confirmed = False
        when = When.from_state(state.when) if state.when else When(asap=True)
        prefix = ""
        if after is not None:
            slots = self._search_after(after)
        else:
            slots = self._search(
                when, per_provider=when.hour is not None and when.start is not None
            )
        if slots is None:
            return self.trouble(ToolResult(name="find_slots", ok=False, error="search_failed"))
        slots = self._by_preference(slots, when)
        if slots and when.hour is not None and after is None:
            exact = slots[0]
            at = datetime.fromisoformat(exact["start"])
            if (at.hour, at.minute) == (when.hour, when.minute) and when.time_op == "at":
                state.offered = [self._slot_keep(exact)]
                state.chosen = state.offered[0]
                return self.ask(
                    "confirm",
                    f"{exact['start_text']} with {exact['provider']} is open. Want me to book it?",
                )
        if not slots:
            start = when.start or self.today
            if after is not None:
                start = datetime.fromisoformat(after).date()
            wider = self._search(When(), start=start)
            slots = [s for s in wider or [] if after is None or s["start"] > after]
            if not slots:
                state.flow_reset()
                self.handoff("No openings found for the patient's request")
                return (
                    "Sorry, I don't see any openings soon. I've asked our team to reach out "
                    "to find you a time."
                )
            prefix = "I don't have anything then. "
        state.offered = [self._slot_keep(s) for s in slots[:OFFER_COUNT]]
        lines = " ".join(
            f"{i}) {s['start_text']} with {s['provider']}"
            for i, s in enumerate(state.offered, start=1)
        )
        return prefix + self.ask("slot", f"I have: {lines}. Which works best?")

    def _search_after(self, after: str) -> list[dict[str, Any]] | None:
        """Slots after `after` (a local ISO start): the rest of that part of the day, then on.

        The tool returns the earliest few of a range, so walk part of day by part of day.
        """
        last = datetime.fromisoformat(after)
        day, part = last.date(), _part_for_hour(last.hour)
        parts = [p for _, p in PART_FOR_HOUR]
        found: list[dict[str, Any]] = []
        for _ in range(4):
            slots = self._search(When(start=day, end=day, part_of_day=part), per_provider=True)
            if slots is None:
                return None
            found.extend(s for s in slots if s["start"] > after)
            if len({s["start"] for s in found}) >= OFFER_COUNT:
                break
            if part == parts[-1]:
                day, part = day + timedelta(days=1), parts[0]
            else:
                part = parts[parts.index(part) + 1]
        if not found:
            return self._search(When(start=day + timedelta(days=1)))
        return found

    @staticmethod
    def _by_preference(slots: list[dict[str, Any]], when: When) -> list[dict[str, Any]]:
        """One slot per start time, closest to a requested hour first, then in time order."""
        unique = list({s["start"]: s for s in reversed(slots)}.values())
        unique.sort(key=lambda s: s["start"])
        if when.hour is None:
            return _spread(unique)

        def minutes(slot: dict[str, Any]) -> int:
            at = datetime.fromisoformat(slot["start"])
            return at.hour * 60 + at.minute

        target = when.hour * 60 + when.minute
        if when.time_op == "after":
            return [s for s in unique if minutes(s) >= target]
        if when.time_op == "before":
            return [s for s in unique if minutes(s) <= target]
        closest = sorted(unique, key=lambda s: abs(minutes(s) - target))
        return closest[:1] + sorted(closest[1:OFFER_COUNT], key=lambda s: s["start"])

    def act(self) -> str:
        state = self.state
        slot = state.chosen or {}
        if state.flow == "reschedule" and state.appointment:
            result = self.tool(
                "reschedule_appointment",
                appointment_id=state.appointment["appointment_id"],
                slot_id=slot["slot_id"],
            )
        else:
            result = self.tool(
                "book_appointment", slot_id=slot["slot_id"], patient_id=state.patient_id
            )
        if result.ok:
            data = result.data
            done = "You're booked!" if state.flow == "book" else "Done, it's moved!"
            state.flow_reset()
            return (
                f"{done} {data['appointment_type']} on {long_text(data['start'])} with "
                f"{data['provider']}. See you then!"
            )
        if result.error in ("slot_taken", "invalid_slot"):
            state.offered = []
            return "Sorry, that time was just taken. " + self.offer()
        if result.error == "patient_not_found":
            state.patient_id = ""
            state.identified = False
            state.confirmed = False
            return self.flow_next()
        return self.trouble(result)

    # --- rescheduling and cancelling ---------------------------------------------------------

    def change_start(self, flow: str, text: str) -> str:
        state = self.state
        state.flow_reset()
        state.flow = flow
        when = when_parse(text, today=self.today)
        if when is not None:
            state.when = when.as_state()
        result = self.tool("list_appointments")
        if not result.ok:
            return self.trouble(result)
        state.appointments = [
            {
                k: a.get(k)
                for k in ("appointment_id", "patient_name", "appointment_type", "provider")
            }
            | {"start": a.get("start"), "start_text": a.get("start_text")}
            for a in result.data.get("appointments", [])
        ]
        if not state.appointments:
            state.flow_reset()
            return self.ask(
                "book_instead",
                "I don't see any upcoming appointments for this number. Want to book one?",
            )
        if len(state.appointments) == 1:
            state.appointment = state.appointments[0]
            return self.change_next()
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
        what = f"{appointment['appointment_type']} on {appointment['start_text']}"
        if state.flow == "cancel":
            return self.ask(
                "cancel_confirm",
                f"Cancel your {what} with {appointment['provider']}? "
                "Reply yes to cancel it or no to keep it.",
            )
        state.appointment_type = appointment["appointment_type"]
        if not state.when and not state.chosen:
            return self.ask(
                "when",
                f"Your {appointment['appointment_type']} is {appointment['start_text']} with "
                f"{appointment['provider']}. What day and time would work better?",
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
        what = f"{appointment['appointment_type']} on {appointment['start_text']}"
        if answer is False:
            state.flow_reset()
            return f"OK, I've kept your {what}. Anything else I can help with?"
        result = self.tool(
            "cancel_appointment",
            appointment_id=appointment["appointment_id"],
            reason="Patient asked by text",
        )
        if not result.ok:
            return self.trouble(result)
        state.flow_reset()
        state.appointment_type = appointment["appointment_type"]
        return f"Done, your {what} is cancelled. " + self.ask(
            "book_instead", "Would you like to book a new time?"
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
