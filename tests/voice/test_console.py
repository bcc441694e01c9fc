"""Calls in the staff console: listed under Voice with their status and length, transcript with
how well each spoken turn was recognised."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.admin.builders import staff_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:conversations_conversation_changelist")


@pytest.fixture
def staff_client(clinic) -> Client:
    client = Client()
    client.force_login(staff_user(clinic, "front-desk"))
    return client


def test_a_call_is_listed_under_voice_with_its_status_and_length(office, caller, staff_client):
    caller.dial()
    caller.say("what are your hours")
    caller.hang_up("completed", "75")

    voice = staff_client.get(CHANGELIST + "?channel=voice").content.decode()
    sms = staff_client.get(CHANGELIST + "?channel=sms").content.decode()

    assert "☎ Voice" in voice
    assert "1m 15s" in voice
    assert "lexi-status-completed" in voice
    assert caller.params["From"] in voice
    assert caller.params["From"] not in sms


def test_the_transcript_shows_what_was_said_and_how_sure_the_recognition_was(
    office, caller, staff_client
):
    caller.dial()
    caller.say("what are your hours", confidence="0.87")
    caller.say("mumble", confidence="0.1")

    page = staff_client.get(CHANGELIST + "?channel=voice")
    link = page.context["cl"].result_list[0].pk
    body = staff_client.get(
        reverse("admin:conversations_conversation_change", args=[link])
    ).content.decode()

    assert "what are your hours" in body
    assert "Spoken, recognised with 87% confidence" in body
    assert "too unsure to act on, Lexi asked again" in body
    assert "Thanks for calling Alpha Dental" in body
