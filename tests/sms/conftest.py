from collections.abc import Iterator
from typing import Any

import pytest

from tenants.models import Organization
from tests.factories import PhoneNumberFactory
from tests.lexi.conftest import openai_server  # the scripted OpenAI-compatible server
from tests.sms.twilio_server import FakeTwilio
from tests.twilio_helpers import TEST_ACCOUNT_SID, TEST_TOKEN, _twilio_settings

__all__ = [
    "CLINIC_A_NUMBER",
    "CLINIC_B_NUMBER",
    "PATIENT",
    "_twilio_settings",
    "openai_server",
    "twilio_server",
]

CLINIC_A_NUMBER = "+18504036622"
CLINIC_B_NUMBER = "+16195550142"
PATIENT = "+16195551234"


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {"LEXI_SENDER_LIMIT_PER_MINUTE": 10}


@pytest.fixture
def clinic_a(org_a: Organization) -> Organization:
    PhoneNumberFactory(organization=org_a, number=CLINIC_A_NUMBER)
    return org_a


@pytest.fixture
def clinic_b(org_b: Organization) -> Organization:
    PhoneNumberFactory(organization=org_b, number=CLINIC_B_NUMBER)
    return org_b


@pytest.fixture
def twilio_server(settings: Any) -> Iterator[FakeTwilio]:
    """A local Twilio REST API; the settings send through the real SDK to it, fast retries."""
    server = FakeTwilio(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_TOKEN).start()
    settings.LEXI_SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_ACCOUNT_SID = TEST_ACCOUNT_SID
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.LEXI_SEND_TIMEOUT_SECONDS = 0.5
    settings.LEXI_SEND_RETRY_WINDOW_SECONDS = 1.0
    settings.LEXI_SEND_BACKOFF_SECONDS = 0.01
    yield server
    server.stop()
