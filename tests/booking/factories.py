"""Factories for booking. Build a clinic with `clinic_setup(organization)` (Mon-Fri 8-12, 13-17)."""

from datetime import time, timedelta

import factory

from booking.models import (
    Appointment,
    AppointmentType,
    Closure,
    Patient,
    Provider,
    ScheduleBlock,
)
from tests.factories import OrganizationFactory, TenantFactory


class ProviderFactory(TenantFactory[Provider]):
    class Meta:
        model = Provider

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Dr. Provider{n}")


class AppointmentTypeFactory(TenantFactory[AppointmentType]):
    class Meta:
        model = AppointmentType

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Visit {n}")
    duration_minutes = 30
    keywords = ""


class ScheduleBlockFactory(TenantFactory[ScheduleBlock]):
    class Meta:
        model = ScheduleBlock

    provider = factory.SubFactory(ProviderFactory)
    organization = factory.LazyAttribute(lambda o: o.provider.organization)
    weekday = 0
    start_time = time(8, 0)
    end_time = time(12, 0)


class ClosureFactory(TenantFactory[Closure]):
    class Meta:
        model = Closure

    organization = factory.SubFactory(OrganizationFactory)
    provider = None
    reason = "Holiday"


class PatientFactory(TenantFactory[Patient]):
    class Meta:
        model = Patient

    organization = factory.SubFactory(OrganizationFactory)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Smith"
    phone = factory.Sequence(lambda n: f"+1619555{n % 10000:04d}")


class AppointmentFactory(TenantFactory[Appointment]):
    class Meta:
        model = Appointment

    provider = factory.SubFactory(ProviderFactory)
    organization = factory.LazyAttribute(lambda o: o.provider.organization)
    patient = factory.SubFactory(
        PatientFactory, organization=factory.SelfAttribute("..organization")
    )
    appointment_type = factory.SubFactory(
        AppointmentTypeFactory, organization=factory.SelfAttribute("..organization")
    )
    end = factory.LazyAttribute(
        lambda o: o.start + timedelta(minutes=o.appointment_type.duration_minutes)
    )
    status = Appointment.Status.SCHEDULED
    source = Appointment.Source.ADMIN


WORKDAY_BLOCKS = ((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0)))


def provider_with_week(organization, name: str, weekdays=range(5)) -> Provider:
    """A provider working Mon-Fri 08:00-12:00 and 13:00-17:00 (local)."""
    provider = ProviderFactory.create(organization=organization, name=name)
    for weekday in weekdays:
        for start, end in WORKDAY_BLOCKS:
            ScheduleBlockFactory(provider=provider, weekday=weekday, start_time=start, end_time=end)
    return provider
