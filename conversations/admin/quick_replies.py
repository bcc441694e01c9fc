"""Quick replies: canned texts a clinic keeps for the reply box."""

from __future__ import annotations

from django.contrib import admin

from console.scoping import TenantAdmin
from conversations.models import QuickReply


@admin.register(QuickReply)
class QuickReplyAdmin(TenantAdmin):
    """Canned texts the clinic's staff drop into the reply box of a conversation."""

    list_display = ("title", "body_preview", "position")
    list_editable = ("position",)
    search_fields = ("title", "body")
    ordering = ("position", "title")
    fields = ("organization", "title", "body", "position")

    @admin.display(description="Text")
    def body_preview(self, obj: QuickReply) -> str:
        return obj.body if len(obj.body) <= 80 else f"{obj.body[:79]}…"
