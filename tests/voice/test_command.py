"""`manage.py call`: a caller books a visit from the terminal, through the real views."""

from io import StringIO

import pytest
from django.core.management import call_command

from booking.models import Appointment
from conversations.models import Conversation
from tenants.scoping import unscoped
from tests.voice.conftest import CALLER, CLINIC_NUMBER

pytestmark = pytest.mark.django_db


def test_a_call_from_the_terminal_books_a_visit_and_ends(
    office, django_capture_on_commit_callbacks
):
    out = StringIO()
    said = ["I'd like to book a cleaning", "Sam Rivera", "March 14th 1985", "Monday morning"]
    said += ["the first one", "yes"]

    with django_capture_on_commit_callbacks(execute=True):
        call_command("call", "--local", "--from", CALLER, "--to", CLINIC_NUMBER, *said, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("lexi> Hi! Thanks for calling Alpha Dental")
    assert any(line.startswith("lexi> You're booked") for line in lines)
    assert lines[-1] == "(call ended)"
    with unscoped():
        assert Appointment.objects.filter(patient__first_name="Sam").count() == 1
        assert Conversation.objects.get(channel="voice").call_status == "completed"
