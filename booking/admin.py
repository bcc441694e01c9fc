"""Scheduling in the staff console: appointments, patients, providers and their hours."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(Appointment)
class AppointmentAdmin(TenantAdmin):
    form = AppointmentAdminForm
    list_display = ("starts", "patient", "provider", "appointment_type", "status", "source")
    list_filter = ("status", "provider", "appointment_type", "source")
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
    )

    @admin.display(description="Start (clinic time)", ordering="start")
    def starts(self, obj: Appointment) -> str:
        return local_time(obj.start, obj.organization)
