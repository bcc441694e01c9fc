"""Row-level security on PostgreSQL: the database's own wall behind the tenant manager.

`rls_install` is idempotent and runs after every `migrate` (tenants/management/commands/
migrate.py), so a new tenant-owned table is covered without a hand-written migration:
- ENABLE and FORCE row level security, and one policy (USING and WITH CHECK) comparing
  `organization_id` with the transaction-local `lexi.organization_ids` (set by
  tenants/postgresql/base.py), read once per statement through a scalar sub-select;
- composite foreign keys (organization_id, fk) -> (organization_id, id), so that a row can only
  point at rows of its own organization;
- the narrow SECURITY DEFINER functions used before any organization is known (routing a `To`
  number for one channel, a status callback's MessageSid, a staff user's memberships) or
  across organizations (which clinic already holds a number): they return organization ids,
  nothing else;
- privileges for the application role (DATABASE_APP_ROLE), which owns nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper

from tenants.scoping import TenantModel

POLICY = "tenant_isolation"
SCOPE_EXPRESSION = "organization_id = ANY ((SELECT lexi_scope_organization_ids())::uuid[])"

FUNCTIONS_SQL = """
-- Bodies are checked when called, not here: `migrate` back to before a column they read must
-- still be able to reinstall them (one multi-statement query, so LOCAL lasts until its end).
SET LOCAL check_function_bodies = off;

CREATE OR REPLACE FUNCTION lexi_scope_organization_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
  SELECT string_to_array(nullif(current_setting('lexi.organization_ids', true), ''), ',')::uuid[]
$$;

-- The two-argument form routed by number alone, whatever the channel: dropped, never overloaded.
DROP FUNCTION IF EXISTS lexi_route_number(text, text);

-- The active row holding the number (else the messaging service) decides alone: its
-- organization if that is active and the row takes the channel, else nothing.
-- PL/pgSQL keeps the query's plan for the session; a SQL function that cannot be inlined (it
-- is SECURITY DEFINER) would plan it again on every text.
CREATE OR REPLACE FUNCTION lexi_route_number(
  p_number text, p_messaging_service_sid text, p_channel text
) RETURNS uuid LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
  RETURN (
  SELECT holder.organization_id
    FROM (
      SELECT p.organization_id, p.sms_enabled, p.voice_enabled, 1 AS rank
        FROM tenants_phonenumber p
       WHERE p.is_active AND p.number = p_number
      UNION ALL
      SELECT p.organization_id, p.sms_enabled, p.voice_enabled, 2 AS rank
        FROM tenants_phonenumber p
       WHERE p.is_active AND coalesce(p_messaging_service_sid, '') <> ''
         AND p.messaging_service_sid = p_messaging_service_sid
      ORDER BY rank LIMIT 1
    ) holder
    JOIN tenants_organization o ON o.id = holder.organization_id AND o.is_active
   WHERE CASE p_channel WHEN 'sms' THEN holder.sms_enabled
                        WHEN 'voice' THEN holder.voice_enabled
                        ELSE false END
  );
END
$$;

-- For the admin's form: which organizations' active rows already hold a number or a messaging
-- service, whatever the current scope (row-level security would hide another clinic's row).
CREATE OR REPLACE FUNCTION lexi_number_claims(
  p_number text, p_messaging_service_sid text, p_excluding_id bigint
) RETURNS TABLE (field text, organization_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT 'number', p.organization_id FROM tenants_phonenumber p
   WHERE p.is_active AND p.number = p_number AND p.id IS DISTINCT FROM p_excluding_id
  UNION ALL
  SELECT 'messaging_service_sid', p.organization_id FROM tenants_phonenumber p
   WHERE p.is_active AND coalesce(p_messaging_service_sid, '') <> ''
     AND p.messaging_service_sid = p_messaging_service_sid
     AND p.id IS DISTINCT FROM p_excluding_id
$$;

CREATE OR REPLACE FUNCTION lexi_route_message_sid(p_sid text)
RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT organization_id FROM conversations_message
   WHERE provider_message_id = p_sid AND role <> 'user' LIMIT 1
$$;

CREATE OR REPLACE FUNCTION lexi_user_organization_ids(p_user_id integer)
RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT organization_id FROM tenants_membership WHERE user_id = p_user_id
$$;

REVOKE ALL ON FUNCTION lexi_route_number(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION lexi_number_claims(text, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION lexi_user_organization_ids(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION lexi_route_message_sid(text) FROM PUBLIC;
"""


def tenant_models() -> list[type[TenantModel]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantModel) and model._meta.managed and not model._meta.proxy
    ]


def _name(*parts: str) -> str:
    """A constraint name within PostgreSQL's 63 characters, stable for the same parts."""
    name = "_".join(parts)
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{name[:52]}_{digest}"


def _constraint_exists(cursor: Any, table: str, name: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
        [name, table],
    )
    return cursor.fetchone() is not None


def _role_exists(cursor: Any, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def rls_install(connection: BaseDatabaseWrapper, *, app_role: str = "") -> None:
    """Install or refresh the policies, composite keys, functions and grants. Idempotent."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    models = tenant_models()
    with connection.cursor() as cursor:
        cursor.execute(FUNCTIONS_SQL)
        for model in models:
            table = quote(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {table} "
                f"USING ({SCOPE_EXPRESSION}) WITH CHECK ({SCOPE_EXPRESSION})"
            )
        for model in models:
            _install_same_organization_keys(cursor, model, quote)
        if app_role and _role_exists(cursor, app_role):
            role = quote(app_role)
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            )
            cursor.execute(
                f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"
            )
            cursor.execute(
                "GRANT EXECUTE ON FUNCTION lexi_route_number(text, text, text), "
                "lexi_number_claims(text, text, bigint), lexi_user_organization_ids(integer), "
                f"lexi_scope_organization_ids(), lexi_route_message_sid(text) TO {role}"
            )


def _install_same_organization_keys(cursor: Any, model: type[TenantModel], quote: Any) -> None:
    table = model._meta.db_table
    for field in model._meta.concrete_fields:
        target = getattr(field, "related_model", None)
        if not field.many_to_one or target is None or not issubclass(target, TenantModel):
            continue
        target_table = target._meta.db_table
        unique_name = _name(target_table, "organization_id_id_key")
        if not _constraint_exists(cursor, target_table, unique_name):
            cursor.execute(
                f"ALTER TABLE {quote(target_table)} ADD CONSTRAINT {quote(unique_name)} "
                f"UNIQUE (organization_id, {quote(target._meta.pk.column)})"
            )
        fk_name = _name(table, str(field.column), "same_org")
        if not _constraint_exists(cursor, table, fk_name):
            cursor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(fk_name)} "
                f"FOREIGN KEY (organization_id, {quote(field.column)}) "
                f"REFERENCES {quote(target_table)} (organization_id, "
                f"{quote(target._meta.pk.column)}) DEFERRABLE INITIALLY DEFERRED"
            )
