"""Model rows written and read with hand-written SQL, for the few statements on the texted turn's
measured hot path (README, "Performance"): the ORM's query building costs more CPU there than
the statement itself. Columns and values come from the models' own fields, so a new column is
carried without editing SQL, and values pass through the fields' own conversions both ways.
PostgreSQL only; every caller keeps its ORM form for other databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model


def hot_path_sql() -> bool:
    """Whether the database runs the hand-written statements (PostgreSQL)."""
    return connection.vendor == "postgresql"


@cache
def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


@cache
def concrete_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    return tuple(model._meta.concrete_fields)


@cache
def field(model: type[Model], name: str) -> Field[Any, Any]:
    found = model._meta.get_field(name)
    assert isinstance(found, Field)  # noqa: S101 -- a concrete column, never a reverse relation
    return found


def column(of: Field[Any, Any]) -> str:
    assert of.column is not None  # noqa: S101 -- concrete fields have columns
    return of.column


@cache
def select_list(model: type[Model]) -> str:
    """Every column of `model`, in field order (what `instance_from_row` reads)."""
    return ", ".join(quote(column(f)) for f in concrete_fields(model))


@cache
def _insert_shape(model: type[Model]) -> tuple[tuple[Field[Any, Any], ...], str, str]:
    fields = tuple(f for f in concrete_fields(model) if not f.primary_key)
    columns = ", ".join(quote(column(f)) for f in fields)
    return fields, columns, ", ".join(["%s"] * len(fields))


def insert_values(instance: Model) -> tuple[str, str, list[Any]]:
    """(columns, placeholders, params) to INSERT `instance` (its primary key from the database)."""
    fields, columns, placeholders = _insert_shape(type(instance))
    db = connections[DEFAULT_DB_ALIAS]  # resolved once: the proxy costs on every access
    params = [f.get_db_prep_save(f.pre_save(instance, add=True), db) for f in fields]
    return columns, placeholders, params


def db_value(of: Field[Any, Any], value: Any) -> Any:
    return of.get_db_prep_save(value, connections[DEFAULT_DB_ALIAS])


def instance_from_row(model: type[Model], row: Sequence[Any]) -> Any:
    """A saved `model` instance from a row of `select_list(model)`."""
    fields = concrete_fields(model)
    db = connections[DEFAULT_DB_ALIAS]
    values = [_from_db(f, value, db) for f, value in zip(fields, row, strict=True)]
    return model.from_db(db.alias, _attnames(model), values)


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in concrete_fields(model)]


def row_read(sql: str, params: list[Any]) -> Any:
    """The first row `sql` returns, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def row_write(sql: str, params: list[Any]) -> Any:
    """Run a writing statement; its first row, if it returns any. As the ORM's writes do, a
    failure inside an atomic block marks it for rollback: nothing more runs in it."""
    with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def saved(instance: Model, pk: Any) -> None:
    """Mark `instance` as the row just inserted with primary key `pk`."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS


def instance_value(of: Field[Any, Any], value: Any) -> Any:
    """A column's value as the model holds it (JSON decoded, and so on)."""
    return _from_db(of, value, connections[DEFAULT_DB_ALIAS])


def _from_db(of: Field[Any, Any], value: Any, db: Any) -> Any:
    for converter in of.get_db_converters(db):
        value = converter(value, of, db)
    return value
