import logging

import pytest

from tenants.phone import InvalidPhoneNumber, phone_mask, phone_normalize
from tenants.selectors import organization_for_number
from tests.factories import OrganizationFactory, PhoneNumberFactory

NORMALIZATION = [
    ("(850) 403-6622", "+18504036622"),
    ("18504036622", "+18504036622"),
    ("+1 850-403-6622", "+18504036622"),
    ("850.403.6622", "+18504036622"),
    ("+18504036622", "+18504036622"),
    ("whatsapp:+18504036622", "+18504036622"),
    ("+44 20 7946 0958", "+442079460958"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZATION)
def test_phone_normalize(raw, expected):
    assert phone_normalize(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12", "+1 (000)"])
def test_phone_normalize_refuses_non_numbers(raw):
    with pytest.raises(InvalidPhoneNumber):
        phone_normalize(raw)


def test_phone_mask_keeps_only_last_two_digits():
    assert phone_mask("+18504036622") == "+*********22"
    assert "850403" not in phone_mask("+18504036622")


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [raw for raw, _ in NORMALIZATION[:5]])
def test_organization_for_number_accepts_common_formats(raw):
    phone = PhoneNumberFactory(number="+18504036622")
    assert organization_for_number(raw, channel="sms") == phone.organization


@pytest.mark.django_db
def test_two_numbers_route_to_their_own_organizations():
    a = PhoneNumberFactory(number="+18504036622")
    b = PhoneNumberFactory(number="+16195550142")
    assert organization_for_number("+18504036622", channel="sms") == a.organization
    assert organization_for_number("+16195550142", channel="sms") == b.organization


@pytest.mark.django_db
def test_messaging_service_sid_routes_when_number_is_unknown():
    phone = PhoneNumberFactory(number="+18504036622", messaging_service_sid="MG123")
    assert organization_for_number("+19999999999", "MG123", channel="sms") == phone.organization


@pytest.mark.django_db
def test_inactive_number_does_not_route():
    PhoneNumberFactory(number="+18504036622", is_active=False)
    assert organization_for_number("+18504036622", channel="sms") is None


@pytest.mark.django_db
def test_inactive_organization_does_not_route():
    PhoneNumberFactory(number="+18504036622", organization__is_active=False)
    assert organization_for_number("+18504036622", channel="sms") is None


@pytest.mark.django_db
def test_unmapped_number_without_default_routes_nowhere(settings):
    settings.LEXI_DEFAULT_ORGANIZATION = ""
    OrganizationFactory(slug="fallback")
    assert organization_for_number("+19999999999", channel="sms") is None


@pytest.mark.django_db
def test_unmapped_number_falls_back_to_default_with_a_masked_warning(settings, caplog):
    fallback = OrganizationFactory(slug="fallback")
    settings.LEXI_DEFAULT_ORGANIZATION = "fallback"
    with caplog.at_level(logging.WARNING):
        assert organization_for_number("+19999999999", channel="sms") == fallback
    assert "default organization" in caplog.text
    assert "9999999999" not in caplog.text


@pytest.mark.django_db
def test_a_voice_only_number_does_not_route_a_text():
    PhoneNumberFactory(number="+18504036622", sms_enabled=False, voice_enabled=True)
    assert organization_for_number("+18504036622", channel="sms") is None


@pytest.mark.django_db
def test_an_sms_only_number_does_not_route_a_call():
    PhoneNumberFactory(number="+18504036622")
    assert organization_for_number("+18504036622", channel="voice") is None


@pytest.mark.django_db
def test_a_number_taking_both_channels_routes_each_to_its_clinic():
    phone = PhoneNumberFactory(number="+18504036622", voice_enabled=True)
    assert organization_for_number("+18504036622", channel="sms") == phone.organization
    assert organization_for_number("+18504036622", channel="voice") == phone.organization


@pytest.mark.django_db
def test_messaging_service_of_a_voice_only_number_does_not_route_a_text():
    PhoneNumberFactory(
        number="+18504036622", sms_enabled=False, voice_enabled=True, messaging_service_sid="MG1"
    )
    assert organization_for_number("+19999999999", "MG1", channel="sms") is None


@pytest.mark.django_db
def test_a_number_held_by_a_clinic_is_not_routed_elsewhere_by_its_messaging_service(org_a, org_b):
    PhoneNumberFactory(
        organization=org_a, number="+18504036622", sms_enabled=False, voice_enabled=True
    )
    PhoneNumberFactory(organization=org_b, number="+16195550142", messaging_service_sid="MG1")
    assert organization_for_number("+18504036622", "MG1", channel="sms") is None
    assert organization_for_number("+19999999999", "MG1", channel="sms") == org_b


@pytest.mark.django_db
def test_a_held_number_that_cannot_take_the_channel_does_not_fall_back_to_the_default(settings):
    fallback = OrganizationFactory(slug="fallback")
    settings.LEXI_DEFAULT_ORGANIZATION = "fallback"
    PhoneNumberFactory(number="+18504036622", sms_enabled=False, voice_enabled=True)
    assert organization_for_number("+18504036622", channel="sms") is None
    assert organization_for_number("+19999999999", channel="sms") == fallback


@pytest.mark.parametrize("channel", ["whatsapp", "web", ""])
def test_routing_refuses_a_channel_numbers_do_not_take(channel):
    with pytest.raises(ValueError, match="numbers route sms or voice"):
        organization_for_number("+18504036622", channel=channel)
