"""The console's own pages: the statistics."""

from __future__ import annotations

import uuid
from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from console.scoping import is_platform_admin, request_organizations
from console.stats import period_for, statistics_for_period


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        choices=[("today", "Today"), ("7d", "7 days"), ("30d", "30 days"), ("custom", "Custom")],
        required=False,
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    organization = forms.TypedChoiceField(required=False, coerce=uuid.UUID, empty_value=None)


def statistics_view(request: HttpRequest) -> HttpResponse:
    """The statistics page; runs inside the site's tenant scope."""
    if not request.user.has_perm("conversations.view_conversation"):
        raise PermissionDenied
    organizations = request_organizations(request)
    form = PeriodForm(request.GET or None)
    organization_field = form.fields["organization"]
    assert isinstance(organization_field, forms.ChoiceField)  # noqa: S101 -- narrows the type
    organization_field.choices = [("", "All my clinics")] + [
        (str(o.pk), o.name) for o in organizations
    ]
    data = form.cleaned_data if form.is_valid() else {}
    chosen = [o for o in organizations if o.pk == data.get("organization")]
    shown = chosen or organizations
    tz = shown[0].tzinfo if len(shown) == 1 else timezone.get_current_timezone()
    today: date = timezone.localtime(timezone.now(), tz).date()
    period = period_for(
        key=data.get("period") or "7d",
        today=today,
        tz=tz,
        first=data.get("start"),
        last=data.get("end"),
    )
    stats = statistics_for_period(
        period=period,
        organization_ids=[o.pk for o in shown]
        if not is_platform_admin(request) or chosen
        else None,
    )
    context = {
        **admin.site.each_context(request),
        "title": "Statistics",
        "form": form,
        "period": period,
        "stats": stats,
        "shown": shown,
        "tz_name": str(tz),
    }
    return TemplateResponse(request, "admin/console/statistics.html", context)
