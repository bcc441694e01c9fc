"""The Calls list's filters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from conversations.attention import needs_staff
from conversations.models import DELIVERY_TROUBLE, Channel, Conversation, Message

NEEDS_ATTENTION = "attention"


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Channel.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in Channel.values:
            return queryset.filter(channel=self.value())
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (Conversation.Status.ONGOING, "Ongoing"),
            (Conversation.Status.COMPLETED, "Completed"),
            (Conversation.Status.NO_ANSWER, "Call not answered"),
            (Conversation.Status.BUSY, "Call busy"),
            (Conversation.Status.FAILED, "Call failed"),
            (Conversation.Status.CANCELED, "Call canceled"),
            (NEEDS_ATTENTION, "Needs attention"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == NEEDS_ATTENTION:
            return queryset.filter(needs_staff())
        if value in Conversation.Status.values:
            return queryset.filter(call_status=value)
        return queryset


class DeliveryFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("failed", "A text failed to deliver")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "failed":
            trouble = Message.objects.filter(
                conversation=OuterRef("pk"), delivery_status__in=DELIVERY_TROUBLE
            )
            return queryset.filter(Exists(trouble))
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Me"), ("nobody", "Nobody"), ("others", "Someone else")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        if value == "others":
            return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user)
        return queryset
