import pytest

from booking.selectors import appointment_type_match, appointment_types_active, providers_active
from tenants.scoping import tenant_scope
from tests.factories import AppointmentTypeFactory, ProviderFactory

pytestmark = pytest.mark.django_db

DEMO_TYPES = {
    "Cleaning": (60, "clean, cleaning, teeth cleaning, hygiene, hygienist, polish"),
    "Checkup": (30, "checkup, check-up, check up, exam, examination, routine, x-rays"),
    "Emergency exam": (30, "emergency, urgent, toothache, pain, broken tooth, chipped, swelling"),
    "Consultation": (30, "consult, consultation, second opinion, whitening, implant, braces"),
}


@pytest.fixture
def types(org_a):
    return {
        name: AppointmentTypeFactory.create(
            organization=org_a, name=name, duration_minutes=minutes, keywords=keywords
        )
        for name, (minutes, keywords) in DEMO_TYPES.items()
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clean", "Cleaning"),
        ("Teeth Cleaning", "Cleaning"),
        ("I need my teeth cleaned please", "Cleaning"),
        ("check-up", "Checkup"),
        ("a check up", "Checkup"),
        ("CHECKUPS", "Checkup"),
        ("exam", "Checkup"),
        ("emergency", "Emergency exam"),
        ("emergency exam", "Emergency exam"),
        ("my tooth is broken, bad toothache", "Emergency exam"),
        ("consult", "Consultation"),
        ("I'd like a consultation about whitening", "Consultation"),
    ],
)
def test_appointment_type_match_understands_patient_words(org_a, types, text, expected):
    with tenant_scope(org_a):
        assert appointment_type_match(organization=org_a, text=text) == types[expected]


@pytest.mark.parametrize("text", ["", "   ", "hello there", "root canal", "exams and cleanings"])
def test_appointment_type_match_gives_none_when_unsure(org_a, types, text):
    with tenant_scope(org_a):
        assert appointment_type_match(organization=org_a, text=text) is None


def test_inactive_and_other_organizations_types_are_never_matched(org_a, org_b, types):
    AppointmentTypeFactory.create(organization=org_b, name="Whitening", keywords="bleach")
    types["Cleaning"].is_active = False
    with tenant_scope(org_a):
        types["Cleaning"].save()
        assert appointment_type_match(organization=org_a, text="cleaning") is None
        assert appointment_type_match(organization=org_a, text="bleach") is None
        assert appointment_types_active(organization=org_a) == [
            types["Checkup"],
            types["Consultation"],
            types["Emergency exam"],
        ]


def test_providers_active_lists_this_organizations_active_providers_by_name(org_a, org_b):
    pearl = ProviderFactory.create(organization=org_a, name="Dr. Pearl")
    molar = ProviderFactory.create(organization=org_a, name="Dr. Molar")
    ProviderFactory.create(organization=org_a, name="Dr. Gone", is_active=False)
    ProviderFactory.create(organization=org_b, name="Dr. Reyes")
    with tenant_scope(org_a):
        assert providers_active(organization=org_a) == [molar, pearl]
