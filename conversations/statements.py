"""Hand-written SQL for the texted turn's hot path: one round trip where the ORM needs three.

Storing a message also bumps its conversation's counter and preview and can mark the messages
it answers; the ORM says that as an INSERT and two UPDATEs. PostgreSQL says it as one statement
(data-modifying WITH). Columns and values come from the models' own fields, so a new column is
carried without editing SQL. Under row-level security like every other statement (the rows'
organization is in each WHERE too). Other databases (SQLite for `make run`) keep the ORM path.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Field, Model

from conversations.models import Conversation, Message


def hot_path_sql() -> bool:
    """Whether the database can run the single statements here (PostgreSQL)."""
    return connection.vendor == "postgresql"


def message_insert_counted(
    *,
    message: Message,
    conversation_changes: dict[str, Any],
    outcome_marks: tuple[str, list[int]] | None = None,
) -> int:
    """INSERT `message`; UPDATE its conversation (count + 1, `conversation_changes`); and, with
    `outcome_marks` (outcome, message ids), set those messages' outcome. Returns the new id."""
    quote = connection.ops.quote_name
    fields = _insert_fields(Message)
    columns = ", ".join(quote(_column(f)) for f in fields)
    values = [_db_value(f, f.pre_save(message, add=True)) for f in fields]
    changes = [(_field(Conversation, name), value) for name, value in conversation_changes.items()]
    assignments = ", ".join(
        [f"{quote('message_count')} = {quote('message_count')} + 1"]
        + [f"{quote(_column(f))} = %s" for f, _value in changes]
    )
    organization_id = _db_value(_field(Message, "organization"), message.organization_id)
    params: list[Any] = [*(_db_value(f, value) for f, value in changes)]
    params += [organization_id, message.conversation_id]
    sql = (
        f"WITH counted AS (UPDATE {quote(Conversation._meta.db_table)} SET {assignments} "  # noqa: S608 -- model names
        "WHERE organization_id = %s AND id = %s)"
    )
    if outcome_marks is not None:
        outcome, ids = outcome_marks
        sql += (
            f", marked AS (UPDATE {quote(Message._meta.db_table)} SET outcome = %s "  # noqa: S608 -- model names
            "WHERE organization_id = %s AND id = ANY(%s))"
        )
        params += [outcome, organization_id, ids]
    sql += (
        f" INSERT INTO {quote(Message._meta.db_table)} ({columns}) "  # noqa: S608 -- model names
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values])
        (new_id,) = cursor.fetchone()
    message.pk = new_id
    message._state.adding = False
    message._state.db = connection.alias
    return int(new_id)


def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 -- a concrete column, never a reverse relation
    return field


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # noqa: S101 -- concrete fields have columns
    return field.column


def _db_value(field: Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)
