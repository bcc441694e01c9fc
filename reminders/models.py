"""Appointment reminders: each clinic's reminder settings, and one row per reminder decided.

A `Reminder` row exists once the sweep has decided about one lead time of one appointment at
one start time: scheduled (waiting for the end of quiet hours), sent (its text is a Message,
whose delivery status says the rest) or skipped (with the reason). The unique constraint is
what makes a reminder go out once, whatever the number of sweeps running.
"""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from reminders.texts import (
    DEFAULT_REMINDER_TEMPLATE,
    lead_times_parse,
    template_validate,
)
from tenants.scoping import TenantModel

REMINDER_ONCE = "reminder_once_per_appointment_start_lead"


def validate_lead_times(value: str) -> None:
    try:
        lead_times_parse(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def validate_template(value: str) -> None:
    try:
        template_validate(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class ReminderPolicy(TenantModel):
    """A clinic's reminder settings. A clinic without a row gets the defaults (reminders on)."""

    enabled = models.BooleanField("send reminders", default=True)
    lead_times = models.CharField(
        max_length=100,
        default="2d, 2h",
        validators=[validate_lead_times],
        help_text="How long before the visit, comma-separated: 2d = two days, 2h = two hours, "
        "30m = thirty minutes. Days keep the clock time (a 10:00 visit: 10:00 two days before).",
    )
    window_start = models.TimeField(
        "send from", default=time(8, 0), help_text="Clinic time; no reminder goes earlier."
    )
    window_end = models.TimeField(
        "send until",
        default=time(20, 0),
        help_text="Clinic time; a reminder due later goes at the next 'send from', unless that "
        "is after the visit (then it is skipped).",
    )
    template = models.TextField(
        "reminder text",
        default=DEFAULT_REMINDER_TEMPLATE,
        validators=[validate_template],
        help_text="Placeholders: {first_name}, {clinic}, {visit_type}, {provider}, {date}, {time}.",
    )
    notify_changes = models.BooleanField(
        "text staff changes",
        default=True,
        help_text="Text the patient when staff book, move or cancel a visit in the console.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "reminder settings"
        verbose_name_plural = "reminder settings"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="reminderpolicy_one_per_clinic"),
            models.CheckConstraint(
                condition=models.Q(window_start__lt=models.F("window_end")),
                name="reminderpolicy_window_starts_before_it_ends",
            ),
        ]

    def __str__(self) -> str:
        return "Reminder settings"

    @property
    def lead_minutes(self) -> list[int]:
        return lead_times_parse(self.lead_times)


class Reminder(TenantModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent"

    appointment = models.ForeignKey(
        "booking.Appointment", on_delete=models.CASCADE, related_name="reminders"
    )
    lead_minutes = models.PositiveIntegerField()
    appointment_start = models.DateTimeField(help_text="The visit's time this reminder is for.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    skip_reason = models.CharField(max_length=200, blank=True)
    message = models.ForeignKey(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The sweep that inserted or claimed the row: how a sweep tells its own rows from others'.
    claim = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["appointment", "due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "appointment_start", "lead_minutes"], name=REMINDER_ONCE
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "due_at"],
                name="reminder_scheduled_due",
                condition=models.Q(status="scheduled"),
            ),
            models.Index(fields=["claim"], name="reminder_claim"),
            models.Index(fields=["organization", "sent_at"], name="reminder_org_sent"),
        ]

    def __str__(self) -> str:
        return f"Reminder {lead_label(self.lead_minutes)} before ({self.status})"


def lead_label(minutes: int) -> str:
    """'2 days', '2 hours', '90 minutes'."""
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minutes"
