"""A patient who writes in Spanish gets Lexi's own texts in Spanish, for the whole conversation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from booking.models import Appointment
from conversations.language import language_detect
from conversations.models import Conversation, Message
from lexi.engines.offline.spanish import spanish_read
from tenants.scoping import tenant_scope
from tests.lexi.conftest import office_setup
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


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("quiero una cita de limpieza el jueves por la mañana", "thursday morning"),
        ("mañana por la tarde", "tomorrow afternoon"),
        ("pasado mañana", "overmorrow"),
        ("quiero cancelar mi cita", "cancel my appointment"),
        ("la primera", "the first one"),
        ("sí", "yes"),
        ("me duele la muela", "pain"),
        ("María de la Cruz", "María de la Cruz"),
    ],
)
def test_spanish_is_read_into_the_words_the_rules_know(said, read):
    assert read in spanish_read(said)


def test_a_visit_is_booked_and_cancelled_in_spanish(client, clinic_a, time_machine):
    time_machine.move_to(datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("America/New_York")))
    office_setup(clinic_a)
    replies = []
    for text in (
        "Hola, quiero una cita de limpieza el jueves por la mañana",
        "Lucía Fernández",
        "3/14/1985",
        "la primera",
        "sí",
        "quiero cancelar mi cita",
        "sí",
    ):
        replies += reply_texts(signed_post(client, twilio_payload(Body=text)))

    assert replies[0].startswith("¡Hola! Bienvenido a Alpha Dental. Soy Lexi.")
    assert "¿Cuál es la fecha de nacimiento?" in replies[1]
    assert "Tengo: 1) jue 3 dic a las 08:00" in replies[2]
    assert replies[3].startswith("Para confirmar: Cleaning el jue 3 dic a las 08:00")
    assert replies[4].startswith("¡Listo, tiene su cita! Cleaning el jueves 3 de dic a las 08:00")
    assert replies[5].startswith("¿Cancelo su Cleaning del jue 3 dic a las 08:00")
    assert "está cancelada" in replies[6]
    with tenant_scope(clinic_a):
        visit = Appointment.objects.select_related("patient").get()
    assert visit.status == "cancelled"
    assert (visit.patient.first_name, visit.patient.last_name) == ("Lucía", "Fernández")


def test_an_emergency_in_spanish_gets_911_advice_and_the_earliest_visit(client, clinic_a):
    office_setup(clinic_a)

    [reply] = reply_texts(
        signed_post(client, twilio_payload(Body="me duele mucho la muela y está hinchado"))
    )

    assert "llame al 911" in reply
    assert "Ya avisé a nuestro equipo" in reply
    assert "Primera visita de urgencia" in reply


def test_an_english_conversation_stays_in_english(client, clinic_a):
    office_setup(clinic_a)

    [reply] = reply_texts(signed_post(client, twilio_payload(Body="Hi, I'd like a cleaning")))

    assert reply.startswith("Hi! Welcome to Alpha Dental. This is Lexi.")
