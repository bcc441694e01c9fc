"""Reminders in the staff console: each clinic's settings, and each appointment's reminders."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from booking.models import Appointment
from conversations.models import DeliveryStatus
from reminders.models import Reminder, ReminderPolicy, lead_label
from reminders.selectors import reminders_ahead, reminders_of
from sms.errors import delivery_error_text
from tenants.admin_scoping import TenantAdmin, local_time


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
