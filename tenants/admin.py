"""Clinics, their numbers and their staff, each user seeing only their own organizations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from console.scoping import (
    TenantAdmin,
    TenantModelForm,
    is_platform_admin,
    organizations_in_scope,
)
from tenants.models import Membership, Organization, PhoneNumber
from tenants.selectors import number_claims


class OrganizationForm(forms.ModelForm):
    """The Twilio auth token is write-only: never rendered back, kept when left empty."""

    twilio_auth_token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the current token.",
    )
    clear_twilio_auth_token = forms.BooleanField(
        required=False, label="Remove the stored auth token"
    )

    class Meta:
        model = Organization
        fields = (
            "name",
            "slug",
            "timezone",
            "is_active",
            "phone",
            "address",
            "website",
            "office_hours",
            "services",
            "policies",
            "lexi_enabled",
            "lexi_engine",
            "lexi_model",
            "lexi_reply_mode",
            "lexi_instructions",
            "twilio_account_sid",
            "twilio_auth_token",
        )

    def clean_twilio_auth_token(self) -> str:
        token: str = self.cleaned_data.get("twilio_auth_token") or ""
        if self.data.get("clear_twilio_auth_token"):
            return ""
        return token or (self.instance.twilio_auth_token if self.instance.pk else "")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ("name", "slug", "timezone", "lexi_enabled", "lexi_engine", "is_active")
    list_filter = ("lexi_enabled", "is_active")
    search_fields = ("name", "slug")
    readonly_fields = ("auth_token_status", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "timezone", "is_active")}),
        (
            "Office profile (what Lexi may tell patients)",
            {"fields": ("phone", "address", "website", "office_hours", "services", "policies")},
        ),
        (
            "Lexi",
            {
                "fields": (
                    "lexi_enabled",
                    "lexi_engine",
                    "lexi_model",
                    "lexi_reply_mode",
                    "lexi_instructions",
                )
            },
        ),
        (
            "Twilio subaccount",
            {
                "classes": ("collapse",),
                "fields": (
                    "twilio_account_sid",
                    "auth_token_status",
                    "twilio_auth_token",
                    "clear_twilio_auth_token",
                ),
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        # Organization is not tenant-owned: the scope does not filter it, so filter here.
        return organizations_in_scope()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        editable = (
            self.has_add_permission(request)
            if obj is None
            else self.has_change_permission(request, obj)
        )
        if editable:
            return fieldsets
        # Read-only views render every field's value: keep the token (even masked) out of them.
        return [
            (title, {**opts, "fields": tuple(f for f in opts["fields"] if not _token_field(f))})
            for title, opts in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not is_platform_admin(request):
            readonly += ["slug", "is_active"]
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)

    @admin.display(description="Auth token")
    def auth_token_status(self, obj: Organization) -> str:
        return "Set (hidden)" if obj.twilio_auth_token else "Not set"


def _token_field(name: object) -> bool:
    return name in ("twilio_auth_token", "clear_twilio_auth_token")


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ("user", "role", "attention_alerts", "created_at")
    list_filter = ("role",)
    list_select_related = ("organization", "user")
    search_fields = ("user__username", "user__email")
    fields = ("organization", "user", "role", "attention_alerts")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("user")
        return readonly


class PhoneNumberForm(TenantModelForm):
    """Refuses a number or messaging service that another active row holds, in any clinic,
    with the reason: the database would refuse it too, but as an error page."""

    class Meta:
        model = PhoneNumber
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        values = {
            name: cleaned.get(name, getattr(self.instance, name))
            for name in ("number", "is_active", "messaging_service_sid")
        }
        if not values["is_active"] or self.errors.get("number"):
            return cleaned
        organization = cleaned.get("organization")
        own_id = organization.pk if organization is not None else self.instance.organization_id
        claims = number_claims(
            number=values["number"] or "",
            messaging_service_sid=values["messaging_service_sid"] or "",
            excluding_pk=self.instance.pk,
        )
        for claim in claims:
            where = "this clinic" if claim.organization_id == own_id else "another clinic"
            name = claim.field if claim.field in self.fields else None
            self.add_error(name, _CLAIMED[claim.field].format(where=where))
        return cleaned


_CLAIMED = {
    "number": (
        "This number is already active in {where}. A number belongs to one clinic at a time: "
        "edit or deactivate that row first (one row takes both SMS and voice)."
    ),
    "messaging_service_sid": (
        "This messaging service is already set on an active number in {where}. "
        "Leave it empty here, or clear it there first."
    ),
}


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantAdmin):
    """Numbers route patients' texts and calls to a clinic, so only platform admins add or
    move them."""

    form = PhoneNumberForm
    list_display = (
        "number",
        "sms_enabled",
        "voice_enabled",
        "friendly_name",
        "is_active",
        "created_at",
    )
    list_filter = ("sms_enabled", "voice_enabled", "is_active")
    search_fields = ("number", "friendly_name")
    fields = (
        "organization",
        "number",
        "sms_enabled",
        "voice_enabled",
        "friendly_name",
        "is_active",
        "messaging_service_sid",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not is_platform_admin(request):
            readonly += [
                "number",
                "sms_enabled",
                "voice_enabled",
                "is_active",
                "messaging_service_sid",
            ]
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)
