"""When: searching free slots for the patient's preference, offering a few, and the answers.

The patient's "when" becomes one `find_slots` call: a requested hour becomes `start_time`, so
"Thursday at 11" reaches 11:00 however many providers fill the morning before it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from lexi.engines.offline.dates import When, choice_pick, when_parse
from lexi.engines.offline.turn import OFFER_COUNT, TurnBase, names_list
from lexi.engines.offline.understand import wants_earlier, wants_later, yes_no
from lexi.tools import ToolResult
from lexi.tools.names import ToolName

__all__ = ["SlotSteps", "slot_keep", "when_merge"]

SEARCH_LIMIT = 10
SKIP_SEARCH_DAYS = 7  # how far past ruled-out days ("any day but Monday") Lexi searches
SPREAD = timedelta(minutes=60)
# "At 11" also looks this long before, so a near miss on either side can be offered.
NEAR_MISS = timedelta(minutes=60)
PART_FOR_HOUR = ((12, "morning"), (17, "afternoon"), (24, "evening"))


def when_merge(old: dict[str, Any] | None, new: When) -> When:
    """A follow-up like '2pm works' keeps the day asked for before, and vice versa."""
    if old is None:
        return new
    merged = When.from_state(old)
    if new.start is not None or new.asap:
        merged.start, merged.end, merged.asap = new.start, new.end, new.asap
    if new.hour is not None or new.part_of_day is not None:
        merged.part_of_day, merged.hour = new.part_of_day, new.hour
        merged.minute, merged.time_op = new.minute, new.time_op
    merged.skip_days = sorted({*merged.skip_days, *new.skip_days})
    merged.skip_window = new.skip_window or merged.skip_window
    return merged


def slot_keep(slot: dict[str, Any]) -> dict[str, Any]:
    """What the state remembers of an offered slot."""
    return {k: slot.get(k) for k in ("slot_id", "start", "start_text", "provider")}


def _part_for_hour(hour: int) -> str:
    return next(part for limit, part in PART_FOR_HOUR if hour < limit)


def _start_time_for(when: When) -> str | None:
    """The earliest local time worth searching from ("HH:MM"); None for no hour or 'before'."""
    if when.hour is None or when.time_op == "before":
        return None
    earliest = timedelta(hours=when.hour, minutes=when.minute)
    if when.time_op == "at":
        earliest = max(timedelta(0), earliest - NEAR_MISS)
    minutes = int(earliest.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


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


def _to_part_with_enough(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The slots up to the end of the part of a day in which OFFER_COUNT times are reached.

    "Later" than a morning offer stays in the morning while the morning has enough.
    """

    def day_and_part(slot: dict[str, Any]) -> tuple[str, str]:
        at = datetime.fromisoformat(slot["start"])
        return at.date().isoformat(), _part_for_hour(at.hour)

    starts: set[str] = set()
    for slot in slots:
        starts.add(slot["start"])
        if len(starts) >= OFFER_COUNT:
            last = day_and_part(slot)
            return [s for s in slots if s["start"] <= slot["start"] or day_and_part(s) == last]
    return slots


class SlotSteps(TurnBase):
    def step_when(self, text: str, raw: str) -> str | None:
        when = when_parse(text, today=self.today)
        if when is None:
            if yes_no(text) is True:
                when = When(asap=True)
            else:
                return None
        self.state.when = when_merge(self.state.when, when).as_state()
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
            return self.offer_instead(when)
        if answer is True:
            if len(state.offered) == 1:
                state.chosen = state.offered[0]
                return self.flow_next()
            numbers = names_list([str(i + 1) for i in range(len(state.offered))])
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
            return self.offer_instead(when)
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
            return self.offer_instead(when)
        state.offered = []
        state.when = None
        return self.ask("when", _("No problem. What day or time would work better?"))

    def offer_instead(self, when: When) -> str:
        """Another day or time than the one offered: it amends the preference, offer afresh."""
        self.state.when = when_merge(self.state.when, when).as_state()
        return self.offer()

    def offer(self, *, after: str | None = None) -> str:
        state = self.state
        state.chosen = None
        state.confirmed = False
        when = When.from_state(state.when) if state.when else When(asap=True)
        prefix = ""
        if after is not None:
            slots = self._search_after(after)
        else:
            slots = self._search(when, start_time=_start_time_for(when))
        if slots is not None and (when.skip_days or when.skip_window):
            slots = self._allowed(slots, when)
        if slots is None:
            return self.trouble(
                ToolResult(name=ToolName.FIND_SLOTS, ok=False, error="search_failed")
            )
        slots = _by_preference(slots, when)
        if slots and when.hour is not None and after is None:
            exact = slots[0]
            at = datetime.fromisoformat(exact["start"])
            if (at.hour, at.minute) == (when.hour, when.minute) and when.time_op == "at":
                state.offered = [slot_keep(exact)]
                state.chosen = state.offered[0]
                return self.ask(
                    "confirm",
                    _("%(when)s with %(provider)s is open. Want me to book it?")
                    % {"when": exact["start_text"], "provider": exact["provider"]},
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
                return _(
                    "Sorry, I don't see any openings soon. I've asked our team to reach out "
                    "to find you a time."
                )
            prefix = _("I don't have anything then.") + " "
        state.offered = [slot_keep(s) for s in slots[:OFFER_COUNT]]
        lines = " ".join(
            f"{i}) "
            + _("%(when)s with %(provider)s") % {"when": s["start_text"], "provider": s["provider"]}
            for i, s in enumerate(state.offered, start=1)
        )
        return prefix + self.ask(
            "slot", _("I have: %(lines)s. Which works best?") % {"lines": lines}
        )

    def _search(
        self, when: When, *, start: date | None = None, start_time: str | None = None
    ) -> list[dict[str, Any]] | None:
        """Free slots for the preference, from `start_time` on each day; None if the tool failed."""
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
        if start_time:
            arguments["start_time"] = start_time
        result = self.tool(ToolName.FIND_SLOTS, **arguments)
        if not result.ok:
            return None
        return list(result.data.get("slots", []))

    def _allowed(self, slots: list[dict[str, Any]], when: When) -> list[dict[str, Any]] | None:
        """The slots the patient did not rule out; searching on past ruled-out days (a week)."""
        allowed = [s for s in slots if when.allows(datetime.fromisoformat(s["start"]))]
        last_day = when.end or self.today + timedelta(days=SKIP_SEARCH_DAYS)
        for _attempt in range(SKIP_SEARCH_DAYS):
            if allowed or not slots:
                return allowed
            day = datetime.fromisoformat(slots[-1]["start"]).date() + timedelta(days=1)
            if day > last_day:
                return allowed
            found = self._search(when, start=day, start_time=_start_time_for(when))
            if found is None:
                return None
            slots = found
            allowed = [s for s in slots if when.allows(datetime.fromisoformat(s["start"]))]
        return allowed

    def _search_after(self, after: str) -> list[dict[str, Any]] | None:
        """Slots after `after` (a local ISO start): the rest of that day, then the days after."""
        last = datetime.fromisoformat(after)
        day = last.date()
        same_day = self._search(When(start=day, end=day), start_time=f"{last:%H:%M}")
        if same_day is None:
            return None
        found = [s for s in same_day if s["start"] > after]
        if len({s["start"] for s in found}) < OFFER_COUNT:
            following = self._search(When(start=day + timedelta(days=1)))
            if following is None:
                return None
            found += following
        return _to_part_with_enough(found)
