"""Clinics, their numbers and their staff, each user seeing only their own organizations."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tenants.admin_scoping import TenantAdmin, is_platform_admin, organizations_in_scope
from tenants.models import Membership, Organization, PhoneNumber


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
    list_display = ("user", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("organization", "user")
    search_fields = ("user__username", "user__email")
    fields = ("organization", "user", "role")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("user")
        return readonly


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantAdmin):
    """Numbers route patients' texts to a clinic, so only platform admins add or move them."""

    list_display = ("number", "channel", "friendly_name", "is_active", "created_at")
    list_filter = ("channel", "is_active")
    search_fields = ("number", "friendly_name")
    fields = (
        "organization",
        "number",
        "channel",
        "friendly_name",
        "is_active",
        "messaging_service_sid",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not is_platform_admin(request):
            readonly += ["number", "channel", "is_active", "messaging_service_sid"]
        return readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)
