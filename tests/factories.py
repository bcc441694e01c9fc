"""Factories for the foundation models. Each app's tests add theirs in tests/<app>/factories.py."""

from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from conversations.models import Conversation, Message
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
