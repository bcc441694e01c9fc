"""`manage.py sms`: text Lexi from the terminal, through the real, signature-checking view."""

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from conversations.attention import conversation_pause
from conversations.models import Conversation, Message
from sms.outbound import sms_send
from tenants.scoping import tenant_scope, unscoped
from tests.sms.conftest import CLINIC_A_NUMBER, PATIENT
from tests.twilio_helpers import TEST_TOKEN


def _sms(*args: str, stdin: Any = None) -> str:
    out = io.StringIO()
    options = {"stdout": out}
    if stdin is not None:
        options["stdin"] = stdin
    call_command("sms", "--from", PATIENT, "--to", CLINIC_A_NUMBER, *args, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_local_text_runs_the_webhook_and_prints_the_reply(clinic_a):
    output = _sms("--local", "Hi, I'd like to book")

    assert output.startswith("lexi> ")
    assert "Welcome to Alpha Dental" in output
    with tenant_scope(clinic_a):
        [conversation] = Conversation.objects.all()
        assert conversation.from_number == PATIENT
        assert list(Message.objects.values_list("role", flat=True).order_by("id")) == [
            "user",
            "assistant",
        ]


@pytest.mark.django_db
def test_local_works_without_a_configured_token(clinic_a, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    output = _sms("--local", "Hello")

    assert "Welcome to Alpha Dental" in output


@pytest.mark.django_db
def test_local_with_the_wrong_token_is_refused_and_stores_nothing(clinic_a):
    with pytest.raises(CommandError, match="403"):
        _sms("--local", "--token", "f" * 32, "Hello")

    with unscoped():
        assert not Message.objects.exists()


@pytest.mark.django_db
def test_interactive_chat_reads_lines_until_eof(clinic_a):
    output = _sms("--local", stdin=io.StringIO("Hello\n\nI'd like a cleaning\n"))

    assert output.count("lexi> ") == 2
    with tenant_scope(clinic_a):
        assert Conversation.objects.get().message_count == 4


@pytest.mark.django_db
def test_without_any_token_the_command_says_to_set_twilio_auth_token(settings):
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(CommandError, match="TWILIO_AUTH_TOKEN"):
        _sms("Hello")


@pytest.mark.django_db(transaction=True)
def test_text_to_a_running_server_is_signed_and_answered(clinic_a, live_server):
    output = _sms("--url", live_server.url, "--token", TEST_TOKEN, "Hi there")

    assert "Welcome to Alpha Dental" in output
    with tenant_scope(clinic_a):
        assert Message.objects.filter(role="user", content="Hi there").count() == 1


@pytest.mark.django_db
def test_unreachable_server_is_a_clear_error(settings):

    with pytest.raises(CommandError, match="Could not reach"):
        _sms("--url", "http://127.0.0.1:9", "--token", TEST_TOKEN, "Hello")


@pytest.mark.django_db
def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(CommandError, match="http:// or https://"):
        _sms("--url", "file:///etc/passwd", "--token", TEST_TOKEN, "Hello")


@pytest.mark.django_db(transaction=True)
def test_local_text_in_the_queued_mode_waits_for_the_worker_reply_and_prints_it(clinic_a, settings):
    settings.LEXI_REPLY_MODE = "queued"

    output = _sms("--local", "Hi, I'd like to book")

    assert output.startswith("lexi> ")
    assert "Welcome to Alpha Dental" in output
    with tenant_scope(clinic_a):
        inbound, reply = Message.objects.order_by("id")
    assert inbound.outcome == "answered"
    assert reply.delivery_status == "sent"


@pytest.mark.django_db
def test_a_queued_text_nobody_answers_says_to_start_the_worker(clinic_a, settings):
    settings.LEXI_REPLY_MODE = "queued"

    with pytest.raises(CommandError, match="worker"):
        _sms("--local", "--wait", "0.3", "Hello")  # its task waits for a commit that never comes


@pytest.mark.django_db
def test_a_staff_reply_reaches_the_patients_terminal(clinic_a, django_capture_on_commit_callbacks):
    _sms("--local", "Hi")
    with tenant_scope(clinic_a):
        conversation = Conversation.objects.get()
        conversation_pause(conversation=conversation)

    def staff_replies_then_patient_texts() -> str:
        with tenant_scope(clinic_a), django_capture_on_commit_callbacks(execute=True):
            sms_send(
                organization=clinic_a,
                conversation=conversation,
                body="Hi, this is Dana at the front desk.",
                role=Message.Role.STAFF,
            )
        return "Thanks Dana\n"

    class Typing:
        """The patient types a line only after the staff reply went out."""

        typed = False

        def isatty(self) -> bool:
            return False

        def readline(self) -> str:
            if self.typed:
                return ""
            self.typed = True
            return staff_replies_then_patient_texts()

    output = _sms("--local", stdin=Typing())

    assert "staff> Hi, this is Dana at the front desk." in output
    assert "lexi>" not in output  # paused: Lexi did not answer "Thanks Dana"
