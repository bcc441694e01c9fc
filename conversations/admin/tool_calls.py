"""Lexi's actions across conversations, to find failures."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from console.scoping import RecordAdminMixin, TenantAdmin
from conversations.models import ToolCall


@admin.register(ToolCall)
class ToolCallAdmin(RecordAdminMixin, TenantAdmin):
    """Lexi's actions across conversations, to find failures; read-only."""

    list_display = ("created_at", "name", "outcome", "duration_ms", "conversation_link")
    # The tool names come from the (scoped) rows themselves.
    list_filter = (
        ("name", admin.AllValuesFieldListFilter),
        ("error", admin.EmptyFieldListFilter),
        "created_at",
    )
    list_select_related = ("organization", "conversation")
    search_fields = ("name", "error", "call_id")
    ordering = ("-created_at",)
    show_full_result_count = False
    date_hierarchy = "created_at"
    fields = (
        "organization",
        "conversation",
        "name",
        "arguments",
        "result",
        "error",
        "engine",
        "round",
        "duration_ms",
        "call_id",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Outcome")
    def outcome(self, obj: ToolCall) -> str:
        if obj.error:
            return format_html(
                '<span class="lexi-badge lexi-status-attention">{}</span>', obj.error
            )
        return format_html('<span class="lexi-badge lexi-status-completed">ok</span>')

    @admin.display(description="Conversation")
    def conversation_link(self, obj: ToolCall) -> str:
        url = reverse("admin:conversations_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">{}</a>', url, obj.conversation.from_number)
