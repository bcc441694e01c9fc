"""Opting out in words: recorded like STOP and confirmed once by Lexi; 'stop' in an ordinary
sentence is not an opt-out."""

import pytest

from sms.models import SmsOptOut
from sms.optout import opt_out_language
from tenants.scoping import tenant_scope
from tests.twilio_helpers import reply_texts, signed_post, twilio_payload

PATIENT = "+16195551234"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("stop texting me", "en"),
        ("Please stop texting me!!", "en"),
        ("please remove me from your list", "en"),
        ("Take me off your texting list", "en"),
        ("unsubscribe me", "en"),
        ("don't text this number", "en"),
        ("Do not text me anymore", "en"),
        ("no more texts please", "en"),
        ("opt me out", "en"),
        ("stop sending me messages", "en"),
        ("PARAR", "es"),
        ("Cancelar suscripción", "es"),
        ("no me escriban más", "es"),
        ("quiero darme de baja", "es"),
    ],
)
def test_asking_to_stop_in_words_is_an_opt_out(text, language):
    assert opt_out_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "the bleeding won't stop",
        "can I stop by later?",
        "my tooth pain won't stop, please help",
        "stop, I meant Tuesday",
        "don't text me before 9 please",
        "you can text me the address",
        "is there a bus stop near you?",
        "I want to cancel my appointment",
        "para mañana por la tarde",
    ],
)
def test_stop_in_an_ordinary_sentence_is_not_an_opt_out(text):
    assert opt_out_language(text) is None


@pytest.mark.django_db
def test_an_opt_out_in_words_is_recorded_confirmed_once_and_then_silence(client, clinic_a):
    signed_post(client, twilio_payload(Body="hi"))

    [confirmation] = reply_texts(signed_post(client, twilio_payload(Body="pls stop texting me")))
    after = reply_texts(signed_post(client, twilio_payload(Body="hello?")))

    assert "unsubscribed" in confirmation
    assert "START" in confirmation
    assert after == []
    with tenant_scope(clinic_a):
        record = SmsOptOut.objects.get(phone=PATIENT)
    assert record.opted_out is True


@pytest.mark.django_db
def test_a_spanish_opt_out_is_confirmed_in_spanish(client, clinic_a):
    [confirmation] = reply_texts(signed_post(client, twilio_payload(Body="No me escriban más")))

    assert "ya no le enviaremos mensajes" in confirmation
    with tenant_scope(clinic_a):
        assert SmsOptOut.objects.get(phone=PATIENT).opted_out is True


@pytest.mark.django_db
def test_bleeding_that_wont_stop_is_urgent_not_an_opt_out(client, clinic_a):
    [reply] = reply_texts(signed_post(client, twilio_payload(Body="the bleeding won't stop")))

    assert "unsubscribed" not in reply
    with tenant_scope(clinic_a):
        assert not SmsOptOut.objects.exists()
