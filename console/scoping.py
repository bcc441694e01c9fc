"""Admin building blocks that keep each staff user inside their organizations.

The scope itself is opened by the admin site (console/site.py); these close the gaps the
tenant manager cannot see: models that are not tenant-owned (Organization, User) offered as
choices or filter options, a new object's organization, and cross-organization references
when a user belongs to several clinics.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest

from tenants.clock import time_for_staff
from tenants.models import Membership, Organization
from tenants.scoping import TenantModel, current_organization_ids
from tenants.selectors import organizations_for_user


def request_organizations(request: HttpRequest) -> list[Organization]:
    """The organizations the admin request may see (set by the site's scope)."""
    organizations = getattr(request, "lexi_organizations", None)
    if organizations is None:
        organizations = organizations_for_user(request.user)
        request.lexi_organizations = organizations  # type: ignore[attr-defined]
    return organizations


def is_platform_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(getattr(user, "is_superuser", False) and user.is_active)


class RecordAdminMixin:
    """Records written by the system (transcripts, actions, consent): staff read them; nobody
    adds or edits them here, and only platform admins may delete one."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)


def organizations_in_scope() -> models.QuerySet[Organization]:
    """Organization rows the current scope may see (Organization is not itself tenant-owned)."""
    allowed = current_organization_ids()
    if allowed is None:
        return Organization.objects.all()
    return Organization.objects.filter(pk__in=allowed)


def users_in_scope() -> models.QuerySet[Any]:
    """Users who are members of an organization in scope (every user when unscoped)."""
    user_model = get_user_model()
    allowed = current_organization_ids()
    if allowed is None:
        return user_model.objects.all()
    member_ids = Membership.objects.filter(organization_id__in=allowed).values_list(
        "user_id", flat=True
    )
    return user_model.objects.filter(pk__in=list(member_ids))


def local_time(value: datetime | None, organization: Organization) -> str:
    """`value` on the organization's wall clock, e.g. 'Tue 1 Dec 2026, 10:00 EST'."""
    if value is None:
        return "—"
    return time_for_staff(value, tz=organization.tzinfo, full=True)


class ScopedRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """Offers only related objects that appear in the (scoped) changelist.

    Django's RelatedFieldListFilter lists every row of the related model, which for
    Organization (not tenant-owned) would name every clinic in an <option>.
    """


def _scoped_filter(model: type[models.Model], entry: Any) -> Any:
    if isinstance(entry, str) and "__" not in entry:
        try:
            field = model._meta.get_field(entry)
        except Exception:
            return entry
        if field.is_relation and field.many_to_one:
            return (entry, ScopedRelatedFilter)
    if isinstance(entry, tuple) and entry[1] is admin.RelatedFieldListFilter:
        return (entry[0], ScopedRelatedFilter)
    return entry


class TenantModelForm(forms.ModelForm):
    """Refuses references to rows of another organization than the object's own."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization = cleaned.get("organization")
        organization_id = (
            organization.pk if organization is not None else self.instance.organization_id
        )
        if organization_id is None:
            return cleaned
        for name, value in list(cleaned.items()):
            if (
                isinstance(value, TenantModel)
                and value.organization_id != organization_id
                and name in self.fields
            ):
                self.add_error(name, "Choose one from the same organization.")
        return cleaned


class TenantAdmin(admin.ModelAdmin):
    """Base admin for tenant-owned models.

    Querysets are already scoped by the site; this adds the organization column and filter for
    superusers, limits foreign-key choices and filter options to the scope, and pins an
    existing object's organization.
    """

    form = TenantModelForm
    list_select_related: ClassVar[Any] = ("organization",)

    def get_list_display(self, request: HttpRequest) -> Any:
        display = list(super().get_list_display(request))
        if is_platform_admin(request) and "organization" not in display:
            display.insert(1, "organization")
        return display

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = [_scoped_filter(self.model, f) for f in super().get_list_filter(request)]
        if is_platform_admin(request):
            filters.append(("organization", ScopedRelatedFilter))
        return filters

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and "organization" not in readonly:
            readonly.append("organization")
        return readonly

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> Any:
        return super().formfield_for_foreignkey(
            db_field, request, **scoped_foreignkey_kwargs(db_field, request, kwargs)
        )


def scoped_foreignkey_kwargs(
    db_field: models.ForeignKey, request: HttpRequest, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Choices for a foreign key to a model the tenant manager does not filter."""
    target = db_field.remote_field.model
    if issubclass(target, Organization):
        kwargs["queryset"] = organizations_in_scope()
        organizations = request_organizations(request)
        if len(organizations) == 1:
            kwargs.setdefault("initial", organizations[0].pk)
    elif target is get_user_model():
        kwargs["queryset"] = users_in_scope()
    return kwargs
