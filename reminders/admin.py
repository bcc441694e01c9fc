"""Reminders in the staff console: each clinic's settings; on each appointment, its reminders
and confirmation, and a text to the patient when staff book, move or cancel it.

The appointment page is booking's, extended here (booking comes before reminders).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from booking.admin import AppointmentAdmin
from booking.models import Appointment
from console.scoping import TenantAdmin, local_time
from conversations.models import DeliveryStatus
from reminders.models import Reminder, ReminderPolicy, lead_label
from reminders.selectors import policy_for, reminders_ahead, reminders_of
from reminders.services import appointment_change_notify
from sms.errors import delivery_error_text
from sms.outbound import SendRefused
from tenants.scoping import tenant_scope


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(TenantAdmin):
    list_display = ("__str__", "enabled", "lead_times", "window_start", "window_end")
    fields = (
        "organization",
        "enabled",
        "lead_times",
        "window_start",
        "window_end",
        "template",
        "notify_changes",
    )


def reminders_html(appointment: Appointment) -> str:
    """The visit's reminders as a small table: those decided (sent, scheduled, not sent, with
    their delivery) and those still ahead, for the appointment's page in the console."""
    if appointment.pk is None:
        return "-"
    organization = appointment.organization
    rows = [
        (lead_label(r.lead_minutes), local_time(r.due_at, organization), _state(r), _delivery(r))
        for r in reminders_of(appointment=appointment)
    ]
    rows.extend(
        (lead_label(lead), local_time(due, organization), "Scheduled", "-")
        for lead, due in reminders_ahead(appointment=appointment, now=timezone.now())
    )
    if not rows:
        return "None"
    return format_html(
        "<table><thead><tr><th>Before the visit</th><th>Due</th><th>Reminder</th>"
        "<th>Delivery</th></tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


def _state(reminder: Reminder) -> str:
    if reminder.status == Reminder.Status.SKIPPED:
        return f"Not sent: {reminder.skip_reason}"
    return reminder.get_status_display()


def _delivery(reminder: Reminder) -> str:
    message = reminder.message
    if message is None or not message.delivery_status:
        return "-"
    label = DeliveryStatus(message.delivery_status).label
    if message.delivery_status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
        return f"{label}: {delivery_error_text(message.delivery_error_code)}"
    return label


class ConfirmedFilter(admin.SimpleListFilter):
    title = "confirmed by the patient"
    parameter_name = "confirmed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Confirmed"), ("no", "Not confirmed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(confirmed_at__isnull=self.value() == "no")
        return queryset


def _change_kind(*, old: Appointment | None, new: Appointment) -> str:
    """What the patient should hear of a staff edit: booked, moved, cancelled, or "" (nothing)."""
    scheduled = Appointment.Status.SCHEDULED
    if old is None:
        return "booked" if new.status == scheduled else ""
    if old.status == scheduled and new.status == Appointment.Status.CANCELLED:
        return "cancelled"
    if new.status == scheduled and old.status != scheduled:
        return "booked"
    if new.status == scheduled and old.start != new.start:
        return "moved"
    return ""


admin.site.unregister(Appointment)


@admin.register(Appointment)
class AppointmentWithRemindersAdmin(AppointmentAdmin):
    def get_list_display(self, request: HttpRequest) -> Any:
        display = list(super().get_list_display(request))
        display.insert(display.index("status") + 1, "confirmed")
        return display

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        filters.insert(1, ConfirmedFilter)
        return filters

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_fields(request, obj), "confirmed_at", "reminders"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "confirmed_at", "reminders"]

    @admin.display(description="Reminders")
    def reminders(self, obj: Appointment) -> str:
        return reminders_html(obj)

    @admin.display(description="Confirmed", boolean=True, ordering="confirmed_at")
    def confirmed(self, obj: Appointment) -> bool:
        return obj.confirmed_at is not None

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        old = Appointment.objects.filter(pk=obj.pk).first() if change else None
        if old is None or old.start != obj.start:
            obj.time_set_at = timezone.now()
            obj.confirmed_at = None  # a confirmation was for the old time
        super().save_model(request, obj, form, change)
        kind = _change_kind(old=old, new=obj)
        if kind:
            self._patient_tell(request, obj, kind)

    def _patient_tell(self, request: HttpRequest, obj: Appointment, kind: str) -> None:
        organization = obj.organization
        try:
            # Staff of several clinics edit with all of them in scope; the text is one clinic's.
            with tenant_scope(organization):
                sent = appointment_change_notify(
                    organization=organization,
                    policy=policy_for(organization=organization),
                    appointment=obj,
                    kind=kind,
                )
        except SendRefused as exc:
            self.message_user(request, f"The patient was not texted: {exc}", messages.WARNING)
            return
        if sent is not None:
            self.message_user(request, f"The patient was texted that the visit is {kind}.")
