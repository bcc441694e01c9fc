"""Voice webhook tests: a caller on a clinic's number, each request signed as Twilio signs it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from tenants.models import Organization
from tests.factories import PhoneNumberFactory
from tests.lexi.conftest import Office, office_setup, openai_server
from tests.twilio_helpers import TEST_TOKEN, _twilio_settings, signed_post, webhook_settings

__all__ = ["_twilio_settings", "openai_server", "webhook_settings"]

CLINIC_NUMBER = "+18504036622"
OFFICE_PHONE = "+18504036600"
CALLER = "+16195551234"
INCOMING = "/api/twilio/incoming-call"
STATUS = "/api/twilio/call-status"


@dataclass
class Heard:
    """What the caller hears back: Lexi's words and what the call does next."""

    status: int
    says: list[str] = field(default_factory=list)
    action: str = ""  # the Gather's action: where the caller's next words go
    dial: str = ""
    hangup: bool = False

    @property
    def said(self) -> str:
        return " ".join(self.says)


def heard(response: Any) -> Heard:
    result = Heard(status=response.status_code)
    if response.status_code != 200:
        return result
    root = ElementTree.fromstring(response.content)  # noqa: S314 -- our own view's TwiML
    for element in root.iter():
        if element.tag == "Say":
            result.says.append(element.text or "")
        elif element.tag == "Gather":
            assert element.get("input") == "speech"
            assert element.get("speechTimeout") == "auto"
            result.action = element.get("action", "")
        elif element.tag == "Dial":
            result.dial = element.text or ""
        elif element.tag == "Hangup":
            result.hangup = True
    return result


class Caller:
    """One phone call to the clinic's number, as Twilio's requests would carry it."""

    def __init__(
        self, *, from_number: str = CALLER, to_number: str = CLINIC_NUMBER, token: str = TEST_TOKEN
    ) -> None:
        self.client = Client()
        self.token = token
        self.params = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": "",
            "From": from_number,
            "To": to_number,
            "Direction": "inbound",
            "CallStatus": "in-progress",
        }
        self.action = ""

    @property
    def call_sid(self) -> str:
        return self.params["CallSid"]

    def post(self, path: str, **extra: str) -> Any:
        return signed_post(self.client, {**self.params, **extra}, url=path, token=self.token)

    def dial(self) -> Heard:
        answer = heard(self.post(INCOMING))
        self.action = answer.action or self.action
        return answer

    def say(self, words: str, *, confidence: str = "0.92") -> Heard:
        answer = heard(self.post(self.action, SpeechResult=words, Confidence=confidence))
        self.action = answer.action or self.action
        return answer

    def silence(self) -> Heard:
        answer = heard(self.post(self.action))
        self.action = answer.action or self.action
        return answer

    def hang_up(self, status: str = "completed", duration: str = "42") -> Any:
        return self.post(STATUS, CallStatus=status, CallDuration=duration)


@pytest.fixture
def clinic(org_a: Organization) -> Organization:
    PhoneNumberFactory(organization=org_a, number=CLINIC_NUMBER, voice_enabled=True)
    org_a.phone = OFFICE_PHONE
    org_a.save(update_fields=["phone"])
    return org_a


@pytest.fixture
def office(clinic: Organization) -> Office:
    return office_setup(clinic)


@pytest.fixture
def caller() -> Caller:
    return Caller()
