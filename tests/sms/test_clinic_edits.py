"""An edit of the clinic's types or providers is in Lexi's very next answer (the cache of them
is keyed by a version the database raises on every edit)."""

from typing import Any

import pytest

from booking.models import AppointmentType, Provider
from conversations.models import ToolCall
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.factories import AppointmentTypeFactory, ProviderFactory
from tests.twilio_helpers import signed_post, twilio_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _office_info_after_text(client: Any, clinic: Organization, body: str) -> dict[str, Any]:
    response = signed_post(client, twilio_payload(Body=body))
    assert response.status_code == 200
    with tenant_scope(clinic):
        call = ToolCall.objects.filter(name="get_office_info").latest("created_at", "id")
    return dict(call.result)


def test_lexi_tells_the_clinics_edited_types_and_providers_at_the_next_text(client, clinic_a):
    with tenant_scope(clinic_a):
        pearl = ProviderFactory.create(organization=clinic_a, name="Dr. Pearl")
        AppointmentTypeFactory.create(organization=clinic_a, name="Cleaning")
    first = _office_info_after_text(client, clinic_a, "What are your hours?")
    assert (first["providers"], first["appointment_types"]) == (["Dr. Pearl"], ["Cleaning"])

    with tenant_scope(clinic_a):  # what the admin's change forms save
        Provider.objects.filter(pk=pearl.pk).update(name="Dr. Crown")
        AppointmentType.objects.create(organization=clinic_a, name="Whitening", duration_minutes=60)

    second = _office_info_after_text(client, clinic_a, "And where are you?")
    assert second["providers"] == ["Dr. Crown"]
    assert second["appointment_types"] == ["Cleaning", "Whitening"]
