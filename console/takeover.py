"""The conversation page's staff actions: reply, pause Lexi, hand back, assign, mark read.

POST only, behind the admin's login, CSRF and the `change_conversation` permission. The
conversation is looked up through the admin's (tenant-scoped) queryset, so another clinic's id
is a 404; the action then runs in that conversation's own tenant scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from console import services
from console.scoping import local_time
from conversations.attention import conversation_read_mark
from conversations.models import Channel, Conversation, QuickReply
from conversations.segments import GSM7_BASIC, GSM7_EXTENDED
from frontdesk.pause import lexi_paused
from lexi.replies import MAX_REPLY_CHARS
from sms.outbound import SendRefused
from sms.selectors import phone_opted_out
from tenants.scoping import tenant_scope

if TYPE_CHECKING:
    from conversations.admin.calls import ConversationAdmin

TAKEOVER_PERMISSION = "conversations.change_conversation"


def _conversation(
    model_admin: ConversationAdmin, request: HttpRequest, object_id: str
) -> Conversation:
    if request.method != "POST" or not request.user.has_perm(TAKEOVER_PERMISSION):
        raise PermissionDenied
    conversation = model_admin.get_object(request, object_id)
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def _back(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    """Back where the action came from (the inbox, the list), else the conversation page."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    return HttpResponseRedirect(target)


def _act(
    model_admin: ConversationAdmin,
    request: HttpRequest,
    object_id: str,
    action: Callable[[Conversation], str],
) -> HttpResponse:
    conversation = _conversation(model_admin, request, object_id)
    with tenant_scope(conversation.organization):
        done = action(conversation)
    model_admin.message_user(request, done, messages.SUCCESS)
    return _back(request, conversation)


def reply_view(
    model_admin: ConversationAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    conversation = _conversation(model_admin, request, object_id)
    try:
        with tenant_scope(conversation.organization):
            services.staff_reply(
                organization=conversation.organization,
                conversation=conversation,
                body=request.POST.get("body", ""),
                user=request.user,
            )
    except SendRefused as exc:
        model_admin.message_user(request, f"Not sent: {exc}", messages.ERROR)
        return _back(request, conversation)
    model_admin.message_user(
        request, "Sent. Lexi is paused on this conversation while you handle it.", messages.SUCCESS
    )
    return _back(request, conversation)


def pause_view(
    model_admin: ConversationAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    def pause(conversation: Conversation) -> str:
        services.staff_pause(
            organization=conversation.organization, conversation=conversation, user=request.user
        )
        return "Lexi is paused: the patient's texts wait for staff."

    return _act(model_admin, request, object_id, pause)


def hand_back_view(
    model_admin: ConversationAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    def hand_back(conversation: Conversation) -> str:
        services.staff_hand_back(
            organization=conversation.organization, conversation=conversation, user=request.user
        )
        return "Handed back to Lexi: she answers the patient's next text."

    return _act(model_admin, request, object_id, hand_back)


def assign_view(
    model_admin: ConversationAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """'me' assigns it to the requesting user; anything else unassigns it."""

    def assign(conversation: Conversation) -> str:
        assignee: Any = request.user if request.POST.get("to") == "me" else None
        services.staff_assign(
            organization=conversation.organization,
            conversation=conversation,
            user=request.user,
            assignee=assignee,
        )
        return "Assigned to you." if assignee is not None else "Unassigned."

    return _act(model_admin, request, object_id, assign)


def read_view(model_admin: ConversationAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    def mark(conversation: Conversation) -> str:
        read = request.POST.get("read") != "0"
        services.staff_read_mark(
            organization=conversation.organization,
            conversation=conversation,
            user=request.user,
            read=read,
        )
        return "Marked read." if read else "Marked unread."

    return _act(model_admin, request, object_id, mark)


def takeover_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    """The conversation page's reply form and takeover buttons; marks it read for the user.

    Runs in the admin's scope; reading it is not logged as an action (only explicit marks are).
    """
    organization = conversation.organization
    with tenant_scope(organization):
        can_take_over = request.user.has_perm(TAKEOVER_PERMISSION)
        if can_take_over:
            conversation_read_mark(conversation=conversation, user=request.user)
        context: dict[str, Any] = {
            "can_take_over": can_take_over,
            "can_reply": can_take_over and conversation.channel == Channel.SMS,
            "lexi_paused": lexi_paused(conversation=conversation),
            "lexi_paused_until": local_time(conversation.lexi_paused_until, organization)
            if conversation.lexi_paused_until
            else "",
            "opted_out": phone_opted_out(organization=organization, phone=conversation.from_number),
            "quick_replies": list(QuickReply.objects.filter(organization=organization)),
            "reply_max_chars": MAX_REPLY_CHARS,
            "gsm7_basic": "".join(sorted(GSM7_BASIC)),
            "gsm7_extended": "".join(sorted(GSM7_EXTENDED)),
        }
    return context
