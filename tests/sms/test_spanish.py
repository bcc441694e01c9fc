"""A patient who writes in Spanish gets Lexi's own texts in Spanish, for the whole conversation."""

import pytest

from conversations.language import language_detect
from conversations.models import Conversation, Message
from tenants.scoping import tenant_scope
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, necesito una cita para limpieza", "es"),
        ("¿Tienen algo mañana por la tarde?", "es"),
        ("hola", "es"),
        ("Hi, I need a cleaning tomorrow", "en"),
        ("can I book an appointment please", "en"),
        ("ok", None),
        ("1", None),
        ("Maria Lopez", None),
    ],
)
def test_the_language_is_read_from_the_words(text, language):
    assert language_detect(text) == language


def test_help_in_spanish_after_a_spanish_text_and_the_conversation_keeps_it(client, clinic_a):
    signed_post(client, twilio_payload(Body="Hola, necesito una cita"))

    [help_reply] = reply_texts(signed_post(client, twilio_payload(Body="AYUDA")))
    [again] = reply_texts(signed_post(client, twilio_payload(Body="HELP")))

    assert "soy Lexi, la asistente por mensaje de texto" in help_reply
    assert "soy Lexi" in again  # the conversation keeps its language
    with tenant_scope(clinic_a):
        assert Conversation.objects.get().metadata["language"] == "es"


def test_an_english_conversation_gets_english_help(client, clinic_a):
    signed_post(client, twilio_payload(Body="Hi, I need an appointment please"))

    [help_reply] = reply_texts(signed_post(client, twilio_payload(Body="HELP")))

    assert "this is Lexi, our text assistant" in help_reply


def test_a_picture_from_a_spanish_conversation_is_answered_in_spanish(client, clinic_a):
    signed_post(client, twilio_payload(Body="Hola, buenos días"))

    response = signed_post(
        client,
        twilio_payload(
            Body="",
            NumMedia="1",
            MediaUrl0="https://api.twilio.com/media/1",
            MediaContentType0="image/jpeg",
        ),
    )

    [reply] = reply_texts(response)
    assert reply.startswith("No puedo abrir imágenes aquí")


def test_a_queued_reply_that_hands_over_says_so_in_spanish(
    client, clinic_a, settings, django_capture_on_commit_callbacks
):
    settings.LEXI_REPLY_MODE = "queued"
    settings.LEXI_REPLY_DEBOUNCE_SECONDS = 0
    for text in ("Hola, quiero una cita", "???", "??", "..."):
        with django_capture_on_commit_callbacks(execute=True):
            signed_post(client, twilio_payload(Body=text))

    with tenant_scope(clinic_a):
        last = Message.objects.filter(role="assistant").order_by("id").last()
    assert last is not None
    assert last.content.startswith("Lo siento, me cuesta entenderle")
