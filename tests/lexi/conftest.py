"""Lexi test fixtures: the scripted OpenAI server and a small clinic to book into."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from booking.models import AppointmentType, Patient, Provider
from conversations.models import Conversation, Message
from conversations.services import message_log
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import (
    AppointmentTypeFactory,
    ConversationFactory,
    PatientFactory,
    provider_with_week,
)
from tests.lexi.openai_server import ScriptedOpenAI

SENDER = "+16195550123"


@pytest.fixture
def openai_server(settings) -> Iterator[ScriptedOpenAI]:
    """A scripted OpenAI-compatible server; the settings point the OpenAI engine at it."""
    server = ScriptedOpenAI().start()
    settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.OPENAI_BASE_URL = server.base_url
    settings.LEXI_ENGINE = "openai"
    yield server
    server.stop()


@dataclass
class Office:
    """A clinic set up to book into: its organization, a provider and three appointment types."""

    organization: Organization
    provider: Provider
    cleaning: AppointmentType
    exam: AppointmentType
    emergency: AppointmentType


def office_setup(organization: Organization) -> Office:
    """One provider working every day 8-12 and 13-17, and three appointment types."""
    return Office(
        organization=organization,
        provider=provider_with_week(organization, "Dr. Pearl", weekdays=range(7)),
        cleaning=AppointmentTypeFactory.create(
            organization=organization, name="Cleaning", duration_minutes=60, keywords="clean"
        ),
        exam=AppointmentTypeFactory.create(
            organization=organization, name="Exam", duration_minutes=30, keywords="checkup"
        ),
        emergency=AppointmentTypeFactory.create(
            organization=organization,
            name="Emergency",
            duration_minutes=30,
            keywords="pain, toothache, swelling",
        ),
    )


def conversation_start(organization: Organization, phone: str = SENDER) -> Conversation:
    return ConversationFactory.create(organization=organization, from_number=phone)


def patient_says(conversation: Conversation, text: str) -> Message:
    """Store the patient's text as the SMS channel does before it runs the turn."""
    with tenant_scope(conversation.organization):
        return message_log(conversation=conversation, role=Message.Role.USER, content=text)


def lexi_says(conversation: Conversation, text: str) -> Message:
    with tenant_scope(conversation.organization):
        return message_log(conversation=conversation, role=Message.Role.ASSISTANT, content=text)


@pytest.fixture
def office_a(org_a: Organization) -> Office:
    return office_setup(org_a)


@pytest.fixture
def office_b(org_b: Organization) -> Office:
    return office_setup(org_b)


@pytest.fixture
def patient_a(office_a: Office) -> Patient:
    return PatientFactory.create(
        organization=office_a.organization, first_name="Ana", last_name="Lopez", phone=SENDER
    )
