"""PostgreSQL backend that carries the tenant scope into the database for row-level security.

Every statement runs with the transaction-local setting `lexi.organization_ids` equal to the
current tenant scope (see tenants/rls.py for the policies that read it). The setting is applied
with `set_config(..., true)` inside the statement's transaction, never at session level, so a
pooled or persistent connection carries nothing from one request to the next. A statement in
autocommit mode under a scope gets a transaction of its own; outside any scope nothing is set,
and the policies show no tenant rows at all.

Round trips: what a statement needs first (BEGIN, `set_config`, a SAVEPOINT or the RELEASE of
one) is not sent on its own but in the same network round trip as the statement, with
psycopg's pipeline mode. So psycopg itself runs in autocommit and this backend sends BEGIN (it
would otherwise wait for BEGIN's answer before anything else). A savepoint inside which no
statement ran is never sent at all, and COMMIT makes any pending RELEASE unnecessary.
"""

from __future__ import annotations

import contextlib
import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq

from tenants.scope_state import current_organization_ids

_EMPTY = ""
# The database value is unknown (a savepoint rolled back past a set_config): set it again.
_UNKNOWN = object()
_ALL_ORGANIZATIONS = object()

_SET_IDS = "SELECT set_config('lexi.organization_ids', %s, true)"
_SET_ALL = (
    "SELECT set_config('lexi.organization_ids', "
    "coalesce((SELECT string_agg(id::text, ',') FROM tenants_organization), ''), true)"
)
_BEGIN = "BEGIN"
_COMMIT = "COMMIT"

# Savepoint statements run in an aborted transaction too; they read no tenant rows.
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")

Command = tuple[str, list[Any] | None]


def _desired() -> object:
    ids = current_organization_ids()
    if ids is None:
        return _ALL_ORGANIZATIONS
    return ",".join(sorted(str(i) for i in ids))


def _scope_command(desired: object) -> Command:
    return (_SET_ALL, None) if desired is _ALL_ORGANIZATIONS else (_SET_IDS, [desired])


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rls_applied: object = _EMPTY
        # Savepoint commands Django asked for, sent with the next statement.
        self.deferred: list[Command] = []
        # Savepoints rolled back before they were sent: Django releases them next, a no-op.
        self.unsent_savepoints: set[str] = set()
        self.execute_wrappers.insert(0, _apply_tenant_scope)

    def commands_send(self, commands: list[Command]) -> None:
        """Send `commands` now, all in one round trip (a pipeline), outside Django's cursor."""
        with self.wrap_database_errors, self.connection.pipeline():
            _queue(self.connection.cursor(), commands)

    def is_usable(self) -> bool:
        """The health check before a request reuses the connection, without a round trip.

        An idle connection has nothing to read unless the server spoke on its own: a restart or
        a terminated backend sends its FATAL and closes. Only then is the connection read (and
        found closed). A server that vanished without a word is found by the request's first
        statement, which fails fast (connect_timeout) into a 503 that Twilio retries.
        """
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
            if readable:
                pgconn.consume_input()
                return bool(pgconn.status == pq.ConnStatus.OK) and super().is_usable()
        except (OSError, psycopg.Error):
            return False
        return bool(pgconn.status == pq.ConnStatus.OK)

    def transaction_open(self) -> bool:
        """Whether the server has an open transaction on this connection."""
        return bool(self.connection.pgconn.transaction_status != pq.TransactionStatus.IDLE)

    # The transaction hooks below are private to Django's backends (django-stubs omits them).

    def _transaction_ended(self) -> None:
        self.rls_applied = _EMPTY
        self.deferred.clear()
        self.unsent_savepoints.clear()

    def connect(self) -> None:
        super().connect()
        self._transaction_ended()

    def _set_autocommit(self, autocommit: bool) -> None:
        # psycopg stays in autocommit: the execute wrapper sends BEGIN with the first statement
        # of a Django transaction, and COMMIT/ROLLBACK go through psycopg as usual.
        if not self.connection.autocommit:
            with self.wrap_database_errors:
                self.connection.autocommit = True
        self._transaction_ended()

    def _commit(self) -> None:
        super()._commit()  # type: ignore[misc]
        self._transaction_ended()

    def _rollback(self) -> None:
        super()._rollback()  # type: ignore[misc]
        self._transaction_ended()

    def _savepoint(self, sid: str) -> None:
        self.deferred.append((self.ops.savepoint_create_sql(sid), None))

    def _savepoint_commit(self, sid: str) -> None:
        if sid in self.unsent_savepoints:
            self.unsent_savepoints.discard(sid)
        elif not self._deferred_drop(sid):
            self.deferred.append((self.ops.savepoint_commit_sql(sid), None))

    def _savepoint_rollback(self, sid: str) -> None:
        if self._deferred_drop(sid):
            self.unsent_savepoints.add(sid)
            return  # nothing ran inside it
        self.commands_send([*self.deferred, (self.ops.savepoint_rollback_sql(sid), None)])
        self.deferred.clear()
        self.rls_applied = _UNKNOWN

    def _deferred_drop(self, sid: str) -> bool:
        """Forget savepoint `sid` (and what followed it) if it was never sent."""
        create = (self.ops.savepoint_create_sql(sid), None)
        if create not in self.deferred:
            return False
        del self.deferred[self.deferred.index(create) :]
        return True


def _apply_tenant_scope(
    execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    connection: DatabaseWrapper = context["connection"]
    in_transaction = connection.in_atomic_block or not connection.get_autocommit()
    if not in_transaction:
        return _autocommit_execute(connection, execute, sql, params, many, context)
    before: list[Command] = []
    if not connection.transaction_open():
        before.append((_BEGIN, None))
    before.extend(connection.deferred)
    connection.deferred.clear()
    if not sql.startswith(_TRANSACTION_CONTROL):
        desired = _desired()
        # "All organizations" is re-read every time: one may have been added in this transaction.
        if desired is _ALL_ORGANIZATIONS or connection.rls_applied != desired:
            before.append(_scope_command(desired))
            connection.rls_applied = desired
    if not before:
        return execute(sql, params, many, context)
    return _pipelined(connection, before, execute, sql, params, many, context, after=[])


def _autocommit_execute(
    connection: DatabaseWrapper,
    execute: Any,
    sql: str,
    params: Any,
    many: bool,
    context: dict[str, Any],
) -> Any:
    """A statement outside any transaction: under a scope it gets one of its own, in one trip."""
    desired = _desired()
    if desired == _EMPTY or sql.startswith(_TRANSACTION_CONTROL):
        return execute(sql, params, many, context)
    before = [(_BEGIN, None), _scope_command(desired)]
    try:
        return _pipelined(
            connection, before, execute, sql, params, many, context, after=[(_COMMIT, None)]
        )
    except BaseException:
        if connection.transaction_open():  # the statement failed: COMMIT was skipped
            # A rollback that fails too (the connection died) must not hide the first error.
            with contextlib.suppress(psycopg.Error):
                connection.connection.rollback()
        raise


def _pipelined(
    connection: DatabaseWrapper,
    before: list[Command],
    execute: Any,
    sql: str,
    params: Any,
    many: bool,
    context: dict[str, Any],
    *,
    after: list[Command],
) -> Any:
    """`before`, the statement and `after` sent together; the statement's rows stay readable
    on Django's cursor."""
    if params is None:
        # Without parameters the SQL may hold several statements (migrations, rls_install),
        # which only the simple protocol takes, and a pipeline cannot carry.
        connection.commands_send(before)
        result = execute(sql, params, many, context)
        if after:
            connection.commands_send(after)
        return result
    raw = connection.connection
    # Errors surface when the pipeline syncs, outside Django's own wrapping of the statement.
    with connection.wrap_database_errors, raw.pipeline():
        side = raw.cursor()
        _queue(side, before)
        result = execute(sql, params, many, context)
        _queue(side, after)
    return result


def _queue(cursor: Any, commands: list[Command]) -> None:
    """Execute `commands` on a raw cursor: inside a pipeline, they are only queued."""
    for sql, params in commands:
        cursor.execute(sql, params)
