"""Scheduling in the staff console: appointments, patients, providers and their hours."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from booking.models import (
    Appointment,
    AppointmentType,
    Closure,
    Patient,
    Provider,
    ScheduleBlock,
)
from booking.selectors import appointment_clash
from console.scoping import TenantAdmin, TenantModelForm, local_time
from reminders.admin import reminders_html
from reminders.selectors import policy_for
from reminders.services import appointment_change_notify
from sms.outbound import SendRefused
from tenants.scoping import tenant_scope


class AppointmentAdminForm(TenantModelForm):
    """Staff edits obey the same rule as Lexi's bookings: one patient per provider at a time,
    and one appointment per patient at a time."""

    class Meta:
        model = Appointment
        # The admin adds the fields per request, inside the tenant scope their choices need.
        fields: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        provider, patient = data.get("provider"), data.get("patient")
        start, end = data.get("start"), data.get("end")
        scheduled = data.get("status") == Appointment.Status.SCHEDULED
        if not (scheduled and provider and patient and start and end):
            return data
        clash = appointment_clash(
            organization=provider.organization,
            provider=provider,
            patient_id=patient.pk,
            start=start,
            end=end,
            exclude_pk=self.instance.pk,
        )
        if clash is not None:
            who = (
                f"{patient.first_name} {patient.last_name}" if clash.patient_busy else provider.name
            )
            when = local_time(clash.appointment.start, clash.appointment.organization)
            raise forms.ValidationError(f"{who} already has an appointment then ({when}).")
        return data


class ScheduleBlockInline(admin.TabularInline):
    model = ScheduleBlock
    extra = 0
    fields = ("weekday", "start_time", "end_time")


@admin.register(Provider)
class ProviderAdmin(TenantAdmin):
    list_display = ("name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fields = ("organization", "name", "is_active")
    inlines = (ScheduleBlockInline,)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows belong to the provider's clinic, whatever the user's other clinics are.
        for inline_form in formset.forms:
            if inline_form.instance.organization_id is None:
                inline_form.instance.organization_id = form.instance.organization_id
        super().save_formset(request, form, formset, change)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(TenantAdmin):
    list_display = ("name", "duration_minutes", "keywords", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "keywords")
    fields = ("organization", "name", "duration_minutes", "keywords", "is_active")


@admin.register(ScheduleBlock)
class ScheduleBlockAdmin(TenantAdmin):
    list_display = ("provider", "weekday", "start_time", "end_time")
    list_filter = ("provider", "weekday")
    list_select_related = ("organization", "provider")
    fields = ("organization", "provider", "weekday", "start_time", "end_time")
    autocomplete_fields = ("provider",)


@admin.register(Closure)
class ClosureAdmin(TenantAdmin):
    list_display = ("date", "provider", "reason")
    list_filter = ("provider", "date")
    list_select_related = ("organization", "provider")
    search_fields = ("reason",)
    fields = ("organization", "date", "provider", "reason")
    date_hierarchy = "date"
    autocomplete_fields = ("provider",)


@admin.register(Patient)
class PatientAdmin(TenantAdmin):
    list_display = ("last_name", "first_name", "phone", "date_of_birth", "created_at")
    search_fields = ("first_name", "last_name", "phone")
    fields = ("organization", "first_name", "last_name", "date_of_birth", "phone")
    show_full_result_count = False


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


@admin.register(Appointment)
class AppointmentAdmin(TenantAdmin):
    form = AppointmentAdminForm
    list_display = (
        "starts",
        "patient",
        "provider",
        "appointment_type",
        "status",
        "confirmed",
        "source",
    )
    list_filter = ("status", ConfirmedFilter, "provider", "appointment_type", "source")
    list_select_related = ("organization", "patient", "provider", "appointment_type")
    search_fields = ("patient__first_name", "patient__last_name", "patient__phone", "notes")
    date_hierarchy = "start"
    ordering = ("-start",)
    show_full_result_count = False
    autocomplete_fields = ("patient", "provider", "appointment_type", "conversation")
    fields = (
        "organization",
        "patient",
        "provider",
        "appointment_type",
        "start",
        "end",
        "status",
        "source",
        "conversation",
        "notes",
        "cancelled_at",
        "cancellation_reason",
        "confirmed_at",
        "reminders",
    )
    readonly_fields = ("confirmed_at", "reminders")

    @admin.display(description="Start (clinic time)", ordering="start")
    def starts(self, obj: Appointment) -> str:
        return local_time(obj.start, obj.organization)

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
            obj.confirmed_at = None
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
