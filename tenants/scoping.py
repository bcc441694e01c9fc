"""The tenant scope: which organization(s) the current code may see.

A thin wrapper over django-scopes. The scope lives in a contextvar (safe under threads and
async); tenant-owned models use `TenantManager`, which fails closed: any query outside a scope
raises `ScopeError` instead of returning every clinic's rows. Open a scope at the edges (the
webhook, the admin, a command, a task) with `tenant_scope(...)` and assert it below them with
`scope_required(...)`; opt out with `unscoped()` only for routing, migrations and platform
administration.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.db import models
from django_scopes import ScopedManager, scope, scopes_disabled
from django_scopes.exceptions import ScopeError
from django_scopes.manager import DisabledQuerySet

from tenants.scope_state import current_organization_ids

__all__ = [
    "ScopeError",
    "TenantManager",
    "TenantModel",
    "current_organization_ids",
    "scope_required",
    "tenant_scope",
    "unscoped",
]


def _organization_id(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return uuid.UUID(value)
    pk = getattr(value, "pk", None)
    if pk is None:
        raise ScopeError("A tenant scope needs a saved organization.")
    return pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))


@contextmanager
def tenant_scope(organizations: Any) -> Iterator[None]:
    """Run the block as one organization (or a list of them, for staff of several clinics)."""
    if isinstance(organizations, list | tuple | set | frozenset | models.QuerySet):
        ids: list[uuid.UUID] | uuid.UUID = [_organization_id(o) for o in organizations]
    else:
        ids = _organization_id(organizations)
    with scope(organization=ids):
        yield


def scope_required(organization: Any) -> None:
    """Raise ScopeError unless the current tenant scope is exactly `organization`.

    Below the edges the scope is asserted, never opened again: a nested scope could silently
    switch tenants.
    """
    if current_organization_ids() != [_organization_id(organization)]:
        raise ScopeError("This code must run inside the tenant scope of its organization.")


@contextmanager
def unscoped() -> Iterator[None]:
    """Lift the tenant filter. Only for routing, migrations and platform administration."""
    with scopes_disabled():
        yield


_BLOCKED = (
    "exists",
    "contains",
    "in_bulk",
    "exclude",
    "select_related",
    "prefetch_related",
    "distinct",
    "extra",
    "defer",
    "explain",
    "bulk_create",
    "bulk_update",
    "union",
    "intersection",
    "difference",
)


class _ClosedQuerySet(DisabledQuerySet):
    """django-scopes' disabled queryset, closed on the few methods it leaves open."""


for _name in _BLOCKED:
    setattr(_ClosedQuerySet, _name, DisabledQuerySet.error)


class TenantQuerySet(models.QuerySet):
    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        for obj in objs:
            _claim_for_scope(obj)
        return super().bulk_create(objs, *args, **kwargs)


def _tenant_manager_class() -> type[models.Manager[Any]]:
    base = type(
        ScopedManager(
            _manager_class=models.Manager.from_queryset(TenantQuerySet), organization="organization"
        )
    )

    class TenantManager(base):  # type: ignore[valid-type,misc]
        """Fails closed outside a scope; `.unscoped()` is the explicit, grep-able way out."""

        def get_queryset(self) -> Any:
            qs = super().get_queryset()
            if isinstance(qs, DisabledQuerySet) and not isinstance(qs, _ClosedQuerySet):
                qs = _ClosedQuerySet(self.model, using=self._db, missing_scopes=qs.missing_scopes)
            return qs

        def unscoped(self) -> Any:
            return self.with_scopes_disabled()

    return TenantManager


TenantManager = _tenant_manager_class()


def _claim_for_scope(obj: TenantModel) -> None:
    """Fill in the organization from the scope, or refuse an object of another organization."""
    allowed = current_organization_ids()
    if allowed is None:
        return
    if not allowed:
        raise ScopeError(f"Refusing to write a {type(obj).__name__} outside a tenant scope.")
    if obj.organization_id is None:
        if len(allowed) != 1:
            raise ScopeError(f"Which organization owns this {type(obj).__name__}? Set it.")
        obj.organization_id = allowed[0]
    elif _organization_id(obj.organization_id) not in allowed:
        raise ScopeError(
            f"Refusing to write a {type(obj).__name__} of another organization in this scope."
        )


class TenantModel(models.Model):
    """Base of every tenant-owned model: an organization and the fail-closed manager."""

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects: ClassVar[Any] = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _claim_for_scope(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _claim_for_scope(self)
        return super().delete(*args, **kwargs)
