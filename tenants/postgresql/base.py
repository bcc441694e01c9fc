"""PostgreSQL backend that carries the tenant scope into the database for row-level security.

Every statement runs with the transaction-local setting `lexi.organization_ids` equal to the
current tenant scope (see tenants/rls.py for the policies that read it). The setting is applied
with `set_config(..., true)` inside the statement's transaction, never at session level, so a
pooled or persistent connection carries nothing from one request to the next. A statement in
autocommit mode under a scope gets a transaction of its own; outside any scope nothing is set,
and the policies show no tenant rows at all.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.backends.postgresql import base

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


# Savepoint statements run in an aborted transaction too; they read no tenant rows.
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK TO SAVEPOINT", "RELEASE SAVEPOINT")


def _desired() -> object:
    ids = current_organization_ids()
    if ids is None:
        return _ALL_ORGANIZATIONS
    return ",".join(sorted(str(i) for i in ids))


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rls_applied: object = _EMPTY
        self.execute_wrappers.insert(0, _apply_tenant_scope)

    def rls_apply(self, raw_cursor: Any, desired: object) -> None:
        if desired is _ALL_ORGANIZATIONS:
            raw_cursor.execute(_SET_ALL)
        else:
            raw_cursor.execute(_SET_IDS, [desired])
        self.rls_applied = desired

    # The transaction hooks below are private to Django's backends (django-stubs omits them).

    def _transaction_ended(self) -> None:
        self.rls_applied = _EMPTY

    def connect(self) -> None:
        super().connect()
        self._transaction_ended()

    def _commit(self) -> None:
        super()._commit()  # type: ignore[misc]
        self._transaction_ended()

    def _rollback(self) -> None:
        super()._rollback()  # type: ignore[misc]
        self._transaction_ended()

    def _savepoint_rollback(self, sid: str) -> None:
        super()._savepoint_rollback(sid)  # type: ignore[misc]
        self.rls_applied = _UNKNOWN

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]
        self._transaction_ended()


def _apply_tenant_scope(
    execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    connection: DatabaseWrapper = context["connection"]
    if sql.startswith(_TRANSACTION_CONTROL):
        return execute(sql, params, many, context)
    desired = _desired()
    in_transaction = connection.in_atomic_block or not connection.get_autocommit()
    if in_transaction:
        # "All organizations" is re-read every time: one may have been added in this transaction.
        if desired is _ALL_ORGANIZATIONS or connection.rls_applied != desired:
            connection.rls_apply(context["cursor"].cursor, desired)
        return execute(sql, params, many, context)
    if desired == _EMPTY:
        return execute(sql, params, many, context)
    with transaction.atomic(using=connection.alias):
        connection.rls_apply(context["cursor"].cursor, desired)
        return execute(sql, params, many, context)
