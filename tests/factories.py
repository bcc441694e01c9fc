"""Every model factory of the tests, in one place; `provider_with_week` builds a working one."""

from datetime import time, timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from booking.models import (
    Appointment,
    AppointmentType,
    Closure,
    Patient,
    Provider,
    ScheduleBlock,
)
from conversations.models import Conversation, Message, ToolCall
from tenants.models import Membership, Organization, PhoneNumber
from tenants.scoping import tenant_scope


class TenantFactory[T](DjangoModelFactory[T]):
    """Creates tenant-owned rows inside their organization's scope, as the app does."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        with tenant_scope(kwargs["organization"]):
            return super()._create(model_class, *args, **kwargs)


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    timezone = "America/New_York"
    phone = "+18505550100"
    address = "1 Main St"
    office_hours = "Mon-Fri 8am-5pm"


class PhoneNumberFactory(TenantFactory[PhoneNumber]):
    class Meta:
        model = PhoneNumber

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"+1850555{n % 10000:04d}")
    sms_enabled = True
    voice_enabled = False


class UserFactory(DjangoModelFactory[Any]):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True


class MembershipFactory(TenantFactory[Membership]):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.STAFF


class ConversationFactory(TenantFactory[Conversation]):
    class Meta:
        model = Conversation

    organization = factory.SubFactory(OrganizationFactory)
    from_number = factory.Sequence(lambda n: f"+1619555{n % 10000:04d}")
    to_number = "+18504036622"
    session_id = factory.LazyAttribute(
        lambda o: f"sms_{o.from_number.lstrip('+')}_{o.to_number.lstrip('+')}"
    )
    channel = "sms"


class MessageFactory(TenantFactory[Message]):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    organization = factory.LazyAttribute(lambda o: o.conversation.organization)
    role = Message.Role.USER
    content = factory.Sequence(lambda n: f"message {n}")


class ToolCallFactory(TenantFactory[ToolCall]):
    class Meta:
        model = ToolCall

    conversation = factory.SubFactory(ConversationFactory)
    organization = factory.LazyAttribute(lambda o: o.conversation.organization)
    name = "get_office_info"
    arguments = factory.LazyFunction(dict)
    result = factory.LazyFunction(dict)


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
