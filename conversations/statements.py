"""Hand-written SQL for the texted turn's hot path: one statement where the ORM needs several,
and less CPU than the ORM spends building it.

Storing a message also bumps its conversation's counter and preview and can mark the messages
it answers; the ORM says that as an INSERT and two UPDATEs. PostgreSQL says it as one statement
(data-modifying WITH). Columns and values come from the models' own fields, so a new column is
carried without editing SQL. Under row-level security like every other statement (the rows'
organization is in each WHERE too). Other databases (SQLite for `make run`) keep the ORM path.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError

from conversations.models import Conversation, Message, ToolCall
from tenants.models import Organization
from tenants.rows import (
    column,
    db_value,
    field,
    insert_values,
    instance_from_row,
    instance_value,
    quote,
    row_read,
    row_write,
    saved,
    select_list,
    table,
)


def message_insert_counted(
    *,
    message: Message,
    conversation_changes: dict[str, Any],
    outcome_marks: tuple[str, list[int]] | None = None,
) -> int:
    """INSERT `message`; UPDATE its conversation (count + 1, `conversation_changes`); and, with
    `outcome_marks` (outcome, message ids), set those messages' outcome. Returns the new id."""
    columns, placeholders, values = insert_values(message)
    changes = [(field(Conversation, name), value) for name, value in conversation_changes.items()]
    assignments = ", ".join(
        [f"{quote('message_count')} = {quote('message_count')} + 1"]
        + [f"{quote(column(f))} = %s" for f, _value in changes]
    )
    organization_id = db_value(field(Message, "organization"), message.organization_id)
    params: list[Any] = [*(db_value(f, value) for f, value in changes)]
    params += [organization_id, message.conversation_id]
    sql = (
        f"WITH counted AS (UPDATE {table(Conversation)} SET {assignments} "
        "WHERE organization_id = %s AND id = %s)"
    )
    if outcome_marks is not None:
        outcome, ids = outcome_marks
        sql += (
            f", marked AS (UPDATE {table(Message)} SET outcome = %s "
            "WHERE organization_id = %s AND id = ANY(%s))"
        )
        params += [outcome, organization_id, ids]
    sql += f" INSERT INTO {table(Message)} ({columns}) VALUES ({placeholders}) RETURNING id"
    (new_id,) = row_write(sql, [*params, *values])
    saved(message, new_id)
    return int(new_id)


def conversation_find_or_add(*, conversation: Conversation) -> tuple[Conversation, bool]:
    """The ongoing conversation of `conversation`'s organization and session, or `conversation`
    (unsaved) inserted as it: (row, created). One statement where get_or_create takes a SELECT,
    a savepoint, an INSERT and its release.

    A row another request inserted after this statement's snapshot (the unique constraint
    turned this insert away) is read by a second one, as get_or_create re-reads. Raises
    IntegrityError when that row was closed meanwhile too: the caller tries again.
    """
    columns, placeholders, values = insert_values(conversation)
    organization_id = db_value(field(Conversation, "organization"), conversation.organization_id)
    every = select_list(Conversation)
    # The arbiter is the partial unique index: its predicate is written out, not a parameter,
    # which the planner could not match to it.
    ongoing = Conversation.Status.ONGOING
    find = (
        f"SELECT false, {every} FROM {table(Conversation)} "
        "WHERE organization_id = %s AND session_id = %s AND call_status = %s"
    )
    find_params = [organization_id, conversation.session_id, ongoing]
    row = row_write(
        f"WITH added AS (INSERT INTO {table(Conversation)} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT (organization_id, session_id) WHERE call_status = '{ongoing.value}' "
        f"DO NOTHING RETURNING {every}) "
        f"SELECT true, {every} FROM added UNION ALL "
        f"{find} AND NOT EXISTS (SELECT 1 FROM added)",
        [*values, *find_params],
    )
    if row is None:
        row = row_read(find, find_params)
    if row is None:
        raise IntegrityError(f"the ongoing conversation {conversation.session_id} closed meanwhile")
    return instance_from_row(Conversation, row[1:]), bool(row[0])


def conversation_of_session(
    *, organization: Organization, session_id: str, channel: str
) -> Conversation | None:
    """The newest conversation of `session_id` on `channel` (a call's, by its CallSid)."""
    row = row_read(
        f"SELECT {select_list(Conversation)} FROM {table(Conversation)} "
        "WHERE organization_id = %s AND session_id = %s AND channel = %s "
        "ORDER BY id DESC LIMIT 1",
        [db_value(field(Conversation, "organization"), organization.pk), session_id, channel],
    )
    return instance_from_row(Conversation, row) if row is not None else None


def message_outcome_locked(*, message: Message) -> str | None:
    """`message`'s outcome, its row locked until the transaction ends."""
    row = row_read(
        f"SELECT outcome FROM {table(Message)} WHERE organization_id = %s AND id = %s FOR UPDATE",
        [db_value(field(Message, "organization"), message.organization_id), message.pk],
    )
    return None if row is None else str(row[0])


def conversation_state_locked(*, conversation: Conversation) -> Any:
    """The conversation's `lexi_state`, its row locked until the transaction ends."""
    row = row_read(
        f"SELECT lexi_state FROM {table(Conversation)} "
        "WHERE organization_id = %s AND id = %s FOR UPDATE",
        [
            db_value(field(Conversation, "organization"), conversation.organization_id),
            conversation.pk,
        ],
    )
    if row is None:
        return None
    return instance_value(field(Conversation, "lexi_state"), row[0])


def conversation_state_save(*, conversation: Conversation, value: Any) -> None:
    row_write(
        f"UPDATE {table(Conversation)} SET lexi_state = %s WHERE organization_id = %s AND id = %s",
        [
            db_value(field(Conversation, "lexi_state"), value),
            db_value(field(Conversation, "organization"), conversation.organization_id),
            conversation.pk,
        ],
    )


def tool_call_insert(*, tool_call: ToolCall) -> None:
    columns, placeholders, values = insert_values(tool_call)
    (new_id,) = row_write(
        f"INSERT INTO {table(ToolCall)} ({columns}) VALUES ({placeholders}) RETURNING id", values
    )
    saved(tool_call, new_id)
