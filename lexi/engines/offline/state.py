"""The offline engine's dialogue state: a small JSON document on the conversation.

Loaded at the start of every turn and saved at its end (`Conversation.lexi_state`), so nothing
lives in memory between texts and any worker can take the next one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.db import transaction

from conversations.models import Conversation
from conversations.statements import conversation_state_locked, conversation_state_save
from tenants.rows import hot_path_sql
from tenants.scoping import scope_required

__all__ = ["State", "state_load", "state_save"]

STATE_VERSION = 1


@dataclass
class State:
    """Where the conversation stands. `awaiting` names the question Lexi asked last."""

    flow: str = ""  # "book" | "reschedule" | "cancel" | ""
    awaiting: str = ""
    question: str = ""
    # Who: patients on this phone, the one we act for, and a registration in progress.
    identified: bool = False
    candidates: list[dict[str, Any]] = field(default_factory=list)
    patient_id: str = ""
    patient_name: str = ""
    reg_first: str = ""
    reg_last: str = ""
    # What and when: the type, the patient's preference, what we offered and what they chose.
    appointment_type: str = ""
    when: dict[str, Any] | None = None
    offered: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] | None = None
    confirmed: bool = False
    another_visit: bool = False  # the patient confirmed a second visit of a type they have
    # A family member the visit is for ("my son Max"), and the last visit booked (for "his
    # brother too, right after").
    for_relation: str = ""
    for_name: str = ""
    last_booked: dict[str, Any] | None = None
    # Reschedule / cancel: the upcoming appointments and the one being changed.
    appointments: list[dict[str, Any]] = field(default_factory=list)
    appointment: dict[str, Any] | None = None
    # Per conversation: the office's appointment types, and whether staff were alerted.
    types: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    handed_off: bool = False
    greeted: bool = False

    def flow_reset(self) -> None:
        """Forget the task in progress; keep who the patient is and what we know of the office."""
        keep: dict[str, Any] = {
            "identified": self.identified,
            "candidates": self.candidates,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "types": self.types,
            "providers": self.providers,
            "handed_off": self.handed_off,
            "greeted": self.greeted,
            "last_booked": self.last_booked,
        }
        fresh = State(**keep)
        for item in fields(self):
            setattr(self, item.name, getattr(fresh, item.name))

    def as_json(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, value: Any) -> State:
        if not isinstance(value, dict) or value.get("version") != STATE_VERSION:
            return cls()
        names = {item.name for item in fields(cls)}
        try:
            return cls(**{key: val for key, val in value.items() if key in names})
        except TypeError:
            return cls()


def state_load(*, conversation: Conversation) -> State:
    """The saved state, read fresh from the database (never from a stale instance).

    Inside a transaction the conversation row stays locked until it ends, so two texts of one
    conversation answered at once take turns instead of overwriting each other's state.
    """
    scope_required(conversation.organization_id)
    if hot_path_sql():
        return State.from_json(conversation_state_locked(conversation=conversation))
    row = Conversation.objects.filter(pk=conversation.pk)
    if transaction.get_connection().in_atomic_block:
        row = row.select_for_update(of=("self",))
    value = row.values_list("lexi_state", flat=True).first()
    return State.from_json(value)


def state_save(*, conversation: Conversation, state: State) -> None:
    """Persist the dialogue state (the patient's name reaches the conversation via the tools)."""
    value = state.as_json()
    scope_required(conversation.organization_id)
    if hot_path_sql():
        conversation_state_save(conversation=conversation, value=value)
    else:
        Conversation.objects.filter(pk=conversation.pk).update(lexi_state=value)
    conversation.lexi_state = value
