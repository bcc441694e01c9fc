"""The staff console: Django's admin with the tenant scope opened at its edge.

Every admin view runs inside the scope of the user's organizations (superusers: `unscoped`),
and its TemplateResponse is rendered inside that scope too, because the admin evaluates
querysets lazily while rendering. Below this edge the tenant manager does the filtering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone

from console.inbox import inbox_context
from console.views import statistics_view
from tenants.models import Organization
from tenants.scoping import TenantModel, current_organization_ids, tenant_scope, unscoped
from tenants.selectors import organizations_for_user


@contextmanager
def admin_scope(request: HttpRequest) -> Iterator[None]:
    """The tenant scope of an admin request: the user's organizations, all for superusers.

    Sets `request.lexi_organizations`; with a single organization, also its timezone.
    """
    user = request.user
    with ExitStack() as stack:
        if getattr(user, "is_superuser", False) and user.is_active:
            stack.enter_context(unscoped())
            organizations = organizations_for_user(user)
        else:
            organizations = organizations_for_user(user)
            stack.enter_context(tenant_scope(organizations))
            if len(organizations) == 1:
                stack.enter_context(timezone.override(organizations[0].tzinfo))
        request.lexi_organizations = organizations  # type: ignore[attr-defined]
        yield


def scoped_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run `view` and render its response inside the request's tenant scope and transaction."""

    @wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # One transaction per admin request: row-level security reads the scope once per
        # transaction, and the page is rendered before it ends.
        with admin_scope(request), transaction.atomic():
            response = view(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        return response

    return inner


def _scoped_shortcut(request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
    """/admin/r/<ct>/<id>/ through the scoped manager: another clinic's id does not exist."""
    try:
        model = ContentType.objects.get(pk=content_type_id).model_class()
        if model is None:
            raise Http404("Not found.")
        if issubclass(model, TenantModel):
            model.objects.get(pk=object_id)
        elif issubclass(model, Organization):
            allowed = current_organization_ids()
            if allowed is not None and str(object_id) not in {str(pk) for pk in allowed}:
                raise Http404("Not found.")
    except (ObjectDoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("Not found.") from exc
    return shortcut(request, content_type_id, object_id)


class LexiAdminSite(admin.AdminSite):
    site_header = "Lexi staff console"
    site_title = "Lexi"
    index_title = "Calls, bookings and settings"

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        return super().admin_view(scoped_view(view), cacheable)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Staff land on the inbox: what needs a person, above the list of apps."""
        return super().index(request, {**inbox_context(request), **(extra_context or {})})

    def get_urls(self) -> list[URLResolver | URLPattern]:
        def wrap(view: Callable[..., Any]) -> Any:
            wrapped = self.admin_view(view)
            wrapped.admin_site = self
            return wrapped

        urls = super().get_urls()
        ours: list[URLResolver | URLPattern] = [
            path(
                "r/<path:content_type_id>/<path:object_id>/",
                wrap(_scoped_shortcut),
                name="view_on_site",
            ),
            path("statistics/", wrap(statistics_view), name="lexi_statistics"),
        ]
        # First match wins: our shortcut shadows Django's unscoped one.
        return ours + urls
