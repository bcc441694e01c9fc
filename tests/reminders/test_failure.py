"""A reminder Twilio refuses for good: the appointment shows it failed, staff are asked to look."""

from datetime import timedelta

import pytest

from conversations.models import Conversation
from reminders.admin import reminders_html
from tenants.scoping import tenant_scope
from tests.reminders.conftest import NEW_YORK, at, reminders_for
from tests.sms.twilio_server import Fault

pytestmark = pytest.mark.django_db

VISIT = at(NEW_YORK, 2026, 12, 10, 10, 0)


def test_a_reminder_refused_for_good_shows_failed_and_flags_the_conversation(
    clinic, book, sweep, twilio_server
):
    visit = book(VISIT)
    twilio_server.push(Fault(status=400, code=21211))  # not a valid phone number

    sweep(VISIT - timedelta(days=2))

    assert twilio_server.sent == []
    assert len(twilio_server.requests) == 1  # refused: not retried
    [reminder] = reminders_for(clinic, visit)
    assert reminder.message is not None
    assert reminder.message.delivery_status == "failed"
    assert reminder.message.delivery_error_code == 21211
    with tenant_scope(clinic):
        conversation = Conversation.objects.get()
        shown = reminders_html(visit)
    assert conversation.needs_attention
    assert "could not be sent" in conversation.attention_reason
    assert "Failed: " in shown


def test_a_reminder_goes_out_once_through_the_real_sdk(clinic, book, sweep, twilio_server):
    book(VISIT)

    sweep(VISIT - timedelta(days=2))
    sweep(VISIT - timedelta(days=2))

    [sent] = twilio_server.sent
    assert sent["Body"].startswith("Hi Ann, this is Alpha Dental")
