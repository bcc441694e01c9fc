"""Calls: conversations in the staff console: the list, the transcript page and the takeover."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from console import takeover
from console.scoping import RecordAdminMixin, TenantAdmin, local_time
from console.services import staff_action_log, staff_assign, staff_read_mark
from console.transcript import transcript_for
from conversations.admin.filters import AssignedFilter, ChannelFilter, DeliveryFilter, StatusFilter
from conversations.models import Conversation, Message
from conversations.selectors import conversations_with_unread
from conversations.services import conversation_complete, conversation_resolve
from frontdesk.pause import lexi_paused
from tenants.phone import InvalidPhoneNumber, phone_normalize
from tenants.scoping import tenant_scope

UNREAD_DOT = mark_safe('<span class="lexi-dot" title="Unread">●</span> ')


def _duration_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        return f"{hours // 24}d {hours % 24}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


_PHONE_CHARACTERS = frozenset("0123456789+-(). ")


def _looks_like_phone(term: str) -> bool:
    return set(term) <= _PHONE_CHARACTERS and sum(ch.isdigit() for ch in term) >= 4


def _number_matches(term: str) -> Q:
    digits = "".join(ch for ch in term if ch.isdigit())
    matches = Q(from_number__contains=digits) | Q(to_number__contains=digits)
    with contextlib.suppress(InvalidPhoneNumber):
        normalized = phone_normalize(term)
        matches |= Q(from_number=normalized) | Q(to_number=normalized)
    return matches


CHANNEL_ICONS = {"sms": "✉", "voice": "☎"}  # in the fonts every system has


@admin.register(Conversation)
class ConversationAdmin(RecordAdminMixin, TenantAdmin):
    """Read-only: conversations are written by the channels; staff resolve and read them."""

    list_display = (
        "last_activity",
        "channel_badge",
        "patient",
        "clinic_number",
        "status_badge",
        "assigned",
        "message_count",
        "preview",
        "duration",
    )
    list_display_links = ("last_activity", "patient")
    list_select_related = ("organization", "assigned_to")
    list_filter = (
        ChannelFilter,
        StatusFilter,
        DeliveryFilter,
        AssignedFilter,
        "needs_attention",
        "start_timestamp",
    )
    search_fields = ("from_number", "to_number", "patient_name", "session_id")
    search_help_text = "A phone number, a patient name, or words from a message."
    ordering = ("-updated_at",)
    show_full_result_count = False
    list_per_page = 50
    actions = (
        "mark_resolved",
        "clear_needs_attention",
        "assign_to_me",
        "mark_read",
        "mark_unread",
    )
    readonly_fields = (
        "organization",
        "channel_badge",
        "patient",
        "to_number",
        "status_badge",
        "attention_reason",
        "lexi_state_text",
        "assigned",
        "started",
        "ended",
        "duration",
        "message_count",
        "session_id",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("patient", "channel_badge", "status_badge"),
                    ("to_number", "organization"),
                    ("started", "ended", "duration", "message_count"),
                    "attention_reason",
                    ("lexi_state_text", "assigned"),
                )
            },
        ),
        ("Technical", {"classes": ("collapse",), "fields": ("session_id",)}),
    )
    change_form_template = "admin/conversations/conversation/change_form.html"
    change_list_template = "admin/conversations/conversation/change_list.html"

    # --- permissions: the transcript is history (RecordAdminMixin); staff may resolve ------

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("conversations.change_conversation")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return conversations_with_unread(queryset=super().get_queryset(request), user=request.user)

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description="Last activity", ordering="updated_at")
    def last_activity(self, obj: Conversation) -> str:
        return local_time(obj.last_message_at or obj.updated_at, obj.organization)

    @admin.display(description="Channel", ordering="channel")
    def channel_badge(self, obj: Conversation) -> str:
        return format_html(
            '<span class="lexi-badge lexi-channel-{}">{} {}</span>',
            obj.channel,
            CHANNEL_ICONS.get(obj.channel, ""),
            obj.get_channel_display(),
        )

    @admin.display(description="Patient", ordering="from_number")
    def patient(self, obj: Conversation) -> str:
        unread = UNREAD_DOT if getattr(obj, "unread", False) else ""
        if obj.patient_name:
            return format_html(
                '{}{} <span class="lexi-muted">{}</span>', unread, obj.patient_name, obj.from_number
            )
        return format_html("{}{}", unread, obj.from_number)

    @admin.display(description="Assigned to", ordering="assigned_to__username")
    def assigned(self, obj: Conversation) -> str:
        return obj.assigned_to.get_username() if obj.assigned_to else "—"

    @admin.display(description="Lexi")
    def lexi_state_text(self, obj: Conversation) -> str:
        if lexi_paused(conversation=obj):
            until = local_time(obj.lexi_paused_until, obj.organization)
            return f"Paused until {until}: staff answer the patient"
        return "Answering"

    @admin.display(description="Clinic number", ordering="to_number")
    def clinic_number(self, obj: Conversation) -> str:
        return obj.to_number

    @admin.display(description="Status")
    def status_badge(self, obj: Conversation) -> str:
        if lexi_paused(conversation=obj):
            return format_html(
                '<span class="lexi-badge lexi-status-waiting" title="{}">Waiting on staff</span>',
                obj.attention_reason or "Lexi is paused while staff handle it",
            )
        if obj.needs_attention:
            return format_html(
                '<span class="lexi-badge lexi-status-attention" title="{}">Needs attention</span>',
                obj.attention_reason,
            )
        return format_html(
            '<span class="lexi-badge lexi-status-{}">{}</span>',
            obj.call_status,
            obj.get_call_status_display(),
        )

    @admin.display(description="Last message")
    def preview(self, obj: Conversation) -> str:
        text = obj.last_message_preview
        return text if len(text) <= 80 else f"{text[:79]}…"

    @admin.display(description="Duration")
    def duration(self, obj: Conversation) -> str:
        if obj.duration_seconds is not None:  # a call: as Twilio measured it
            return _duration_text(obj.duration_seconds)
        end = obj.end_timestamp or obj.last_message_at
        if end is None or end < obj.start_timestamp:
            return "—"
        return _duration_text((end - obj.start_timestamp).total_seconds())

    @admin.display(description="Started")
    def started(self, obj: Conversation) -> str:
        return local_time(obj.start_timestamp, obj.organization)

    @admin.display(description="Ended")
    def ended(self, obj: Conversation) -> str:
        return local_time(obj.end_timestamp, obj.organization) if obj.end_timestamp else "—"

    # --- search: message text through an EXISTS subquery, not a join + DISTINCT ------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if _looks_like_phone(term):
            # Numbers only: a phone-looking term never scans message text (row-level security
            # keeps PostgreSQL from using an index for LIKE over messages).
            return queryset.filter(_number_matches(term)), False
        matches = Q(patient_name__icontains=term) | Q(session_id__icontains=term)
        said = Message.objects.filter(conversation=OuterRef("pk"), content__icontains=term)
        return queryset.filter(matches | Q(Exists(said))), False

    # --- detail: the transcript ----------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        conversation = self.get_object(request, object_id)
        if conversation is not None:
            context["transcript"] = transcript_for(conversation=conversation)
            context["can_resolve"] = self.has_resolve_permission(request)
            context["lexi_conversation"] = conversation
            context["lexi_timezone"] = conversation.organization.timezone
            if request.method == "GET":
                context.update(takeover.takeover_context(request, conversation))
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        ours = [
            path(
                "<path:object_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="{}_{}_resolve".format(*info),
            ),
            *(
                path(
                    f"<path:object_id>/{action}/",
                    self.admin_site.admin_view(self._takeover(view)),
                    name="{}_{}_{}".format(*info, action.replace("-", "_")),
                )
                for action, view in (
                    ("reply", takeover.reply_view),
                    ("pause", takeover.pause_view),
                    ("hand-back", takeover.hand_back_view),
                    ("assign", takeover.assign_view),
                    ("read", takeover.read_view),
                )
            ),
        ]
        return ours + super().get_urls()

    def _takeover(self, view: Any) -> Any:
        def bound(request: HttpRequest, object_id: str) -> HttpResponse:
            return view(self, request, object_id)

        bound.__name__ = view.__name__
        return bound

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST only: 'complete' marks it resolved; 'clear' only clears needs-attention."""
        if request.method != "POST" or not self.has_resolve_permission(request):
            raise PermissionDenied
        conversation = get_object_or_404(self.get_queryset(request), pk=object_id)
        if request.POST.get("what") == "complete":
            self._complete([conversation])
            self.message_user(request, "Marked resolved.", messages.SUCCESS)
        else:
            conversation_resolve(conversation=conversation)
            self.message_user(request, "Cleared the needs-attention flag.", messages.SUCCESS)
        self.log_change(request, conversation, "Resolved by staff")
        return HttpResponseRedirect(
            reverse("admin:conversations_conversation_change", args=[conversation.pk])
        )

    # --- actions -----------------------------------------------------------------------------

    def _complete(self, conversations: Any) -> int:
        count = 0
        for conversation in conversations:
            conversation_complete(conversation=conversation)
            conversation_resolve(conversation=conversation)
            count += 1
        return count

    @admin.action(description="Mark resolved (completed)", permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = self._complete(queryset)
        for conversation in queryset:
            staff_action_log(user=request.user, conversation=conversation, action="Resolved")
        self.message_user(request, f"Marked {count} conversation(s) resolved.", messages.SUCCESS)

    def _each_in_scope(self, queryset: QuerySet[Any], act: Any) -> int:
        count = 0
        for conversation in queryset.select_related("organization"):
            with tenant_scope(conversation.organization):
                act(conversation)
            count += 1
        return count

    @admin.action(description="Assign to me", permissions=["resolve"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = self._each_in_scope(
            queryset,
            lambda c: staff_assign(
                organization=c.organization,
                conversation=c,
                user=request.user,
                assignee=request.user,
            ),
        )
        self.message_user(request, f"Assigned {count} conversation(s) to you.", messages.SUCCESS)

    @admin.action(description="Mark read", permissions=["resolve"])
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = self._each_in_scope(
            queryset,
            lambda c: staff_read_mark(
                organization=c.organization, conversation=c, user=request.user, read=True
            ),
        )
        self.message_user(request, f"Marked {count} conversation(s) read.", messages.SUCCESS)

    @admin.action(description="Mark unread", permissions=["resolve"])
    def mark_unread(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = self._each_in_scope(
            queryset,
            lambda c: staff_read_mark(
                organization=c.organization, conversation=c, user=request.user, read=False
            ),
        )
        self.message_user(request, f"Marked {count} conversation(s) unread.", messages.SUCCESS)

    @admin.action(description="Clear needs-attention", permissions=["resolve"])
    def clear_needs_attention(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = 0
        for conversation in queryset.filter(needs_attention=True):
            conversation_resolve(conversation=conversation)
            staff_action_log(
                user=request.user, conversation=conversation, action="Cleared needs-attention"
            )
            count += 1
        self.message_user(request, f"Cleared {count} conversation(s).", messages.SUCCESS)
