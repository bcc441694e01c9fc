from datetime import UTC, datetime

import pytest

from booking.errors import SlotInvalid
from booking.slots import SlotRef, slot_decode, slot_encode

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)


def encode(org, *, start=START):
    return slot_encode(organization_id=org.pk, provider_id=7, start=start, appointment_type_id=3)


def test_a_slot_id_round_trips_and_is_short(org_a):
    slot_id = encode(org_a)
    assert slot_decode(organization=org_a, slot_id=slot_id) == SlotRef(7, START, 3)
    assert len(slot_id) <= 64


def test_another_organizations_slot_id_is_invalid(org_a, org_b):
    with pytest.raises(SlotInvalid) as raised:
        slot_decode(organization=org_b, slot_id=encode(org_a))
    assert raised.value.code == "invalid_slot"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.replace("7.", "8.", 1),
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s.split(":")[0],
        lambda s: "",
        lambda s: "x" * 500,
        lambda s: "7.zzzzzzzzzzzzzzzzzzzzzz.3:" + s.split(":")[1],
    ],
    ids=["payload", "signature", "unsigned", "empty", "huge", "swapped-payload"],
)
def test_a_tampered_slot_id_is_invalid(org_a, tamper):
    with pytest.raises(SlotInvalid):
        slot_decode(organization=org_a, slot_id=tamper(encode(org_a)))


def test_a_slot_id_signed_with_another_secret_is_invalid(org_a, settings):
    ours = settings.SECRET_KEY
    settings.SECRET_KEY = "another-deployment-secret-key-of-enough-length"
    forged = encode(org_a)
    settings.SECRET_KEY = ours
    with pytest.raises(SlotInvalid):
        slot_decode(organization=org_a, slot_id=forged)


def test_only_aware_whole_minute_starts_are_encoded(org_a):
    with pytest.raises(ValueError, match="whole minute"):
        encode(org_a, start=START.replace(second=5))
    with pytest.raises(ValueError, match="whole minute"):
        encode(org_a, start=START.replace(tzinfo=None))
