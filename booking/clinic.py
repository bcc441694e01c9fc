"""What a clinic rarely changes, read once per process: its active appointment types and
providers and the providers' weekly hours.

Every texted turn needs some of it (the office tool, matching a visit type, the slot search).
The cache is keyed by the organization and its `data_version`, which the database raises on
every change to those tables (booking migration 0005), so an edit in the admin is seen by the
next request, whatever process serves it. An entry is stored under the version read *before*
its rows (a concurrent edit can only make it newer than its key, never older), and served only
to an organization instance carrying that same version: a stale instance reads the database.
PostgreSQL only (where the trigger is); elsewhere every call reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.db import connection

from booking.models import AppointmentType, Provider, ScheduleBlock
from tenants.models import Organization

MAX_ENTRIES = 512  # clinics per process; beyond that the cache starts over


@dataclass(frozen=True)
class WeeklyHours:
    provider_id: int
    weekday: int
    start_time: time
    end_time: time


@dataclass(frozen=True)
class ClinicData:
    appointment_types: tuple[AppointmentType, ...]  # active, by name
    providers: tuple[Provider, ...]  # active, by name
    hours: tuple[WeeklyHours, ...]  # of the active providers


_cache: dict[tuple[object, int], ClinicData] = {}


def clinic_data(*, organization: Organization) -> ClinicData:
    """The clinic's active types, providers and hours, as of `organization.data_version`."""
    if connection.vendor != "postgresql":
        return _clinic_data_read(organization)
    key = (organization.pk, organization.data_version)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    version = (
        Organization.objects.filter(pk=organization.pk)
        .values_list("data_version", flat=True)
        .first()
    )
    data = _clinic_data_read(organization)
    if version == organization.data_version:
        if len(_cache) >= MAX_ENTRIES:
            _cache.clear()
        _cache[key] = data
    return data


def _clinic_data_read(organization: Organization) -> ClinicData:
    providers = tuple(
        Provider.objects.filter(organization=organization, is_active=True).order_by("name", "id")
    )
    active = {p.pk for p in providers}
    hours = tuple(
        WeeklyHours(provider_id, weekday, start, end)
        for provider_id, weekday, start, end in ScheduleBlock.objects.filter(
            organization=organization, provider_id__in=active
        )
        .order_by("provider_id", "weekday", "start_time")
        .values_list("provider_id", "weekday", "start_time", "end_time")
    )
    types = tuple(
        AppointmentType.objects.filter(organization=organization, is_active=True).order_by(
            "name", "id"
        )
    )
    return ClinicData(appointment_types=types, providers=providers, hours=hours)
