"""The current tenant scope, readable without importing a model (the database backend needs it)."""

import uuid

from django_scopes import get_scope


def current_organization_ids() -> list[uuid.UUID] | None:
    """The organizations in scope; None when scoping is off (`unscoped`); [] outside any scope."""
    state = get_scope()
    if not state.get("_enabled", True):
        return None
    value = state.get("organization")
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
