"""SMS consent per clinic (scoped) and unrouted texts (platform staff only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from console.scoping import RecordAdminMixin, TenantAdmin, is_platform_admin
from sms.models import SmsOptOut, UnroutedMessage


@admin.register(SmsOptOut)
class SmsOptOutAdmin(RecordAdminMixin, TenantAdmin):
    """Consent is the patient's to give (STOP/START): staff read it, they do not set it.

    Deleting a STOP would let texts reach someone who asked for none: platform admins only."""

    list_display = ("phone", "opted_out", "keyword", "updated_at")
    list_filter = ("opted_out",)
    search_fields = ("phone",)
    fields = ("organization", "phone", "opted_out", "keyword", "updated_at")
    readonly_fields = fields


@admin.register(UnroutedMessage)
class UnroutedMessageAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Texts to numbers no clinic owns: not any clinic's data, so platform admins only."""

    list_display = ("received_at", "to_number", "from_number", "message_sid")
    search_fields = ("to_number", "from_number", "message_sid")
    fields = ("message_sid", "from_number", "to_number", "body", "params", "received_at")
    readonly_fields = fields
    date_hierarchy = "received_at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request)
