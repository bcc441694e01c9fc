from typing import Any

import pytest

from tenants.models import Organization
from tests.factories import PhoneNumberFactory
from tests.lexi.conftest import openai_server  # the scripted OpenAI-compatible server
from tests.twilio_helpers import webhook_settings_apply

__all__ = ["CLINIC_A_NUMBER", "CLINIC_B_NUMBER", "PATIENT", "openai_server"]

CLINIC_A_NUMBER = "+18504036622"
CLINIC_B_NUMBER = "+16195550142"
PATIENT = "+16195551234"


@pytest.fixture(autouse=True)
def _twilio_settings(settings: Any) -> None:
    webhook_settings_apply(settings, LEXI_SENDER_LIMIT_PER_MINUTE=10)


@pytest.fixture
def clinic_a(org_a: Organization) -> Organization:
    PhoneNumberFactory(organization=org_a, number=CLINIC_A_NUMBER)
    return org_a


@pytest.fixture
def clinic_b(org_b: Organization) -> Organization:
    PhoneNumberFactory(organization=org_b, number=CLINIC_B_NUMBER)
    return org_b
