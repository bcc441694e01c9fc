"""The clinic's types, providers and hours: read once per process, never stale after an edit."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.clinic import clinic_data
from booking.models import AppointmentType, Provider, ScheduleBlock
from booking.selectors import appointment_types_active, office_day, providers_active
from tenants.models import Organization
from tenants.scoping import tenant_scope
from tests.booking.conftest import MONDAY
from tests.factories import AppointmentTypeFactory, ProviderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _fresh(org: Organization) -> Organization:
    """The organization as a request sees it: read at routing, with its current version."""
    return Organization.objects.get(pk=org.pk)


def _names(items) -> list[str]:
    return [item.name for item in items]


def test_an_unchanged_clinic_is_read_once(office):
    org = _fresh(office["org"])
    with tenant_scope(org):
        first = _names(appointment_types_active(organization=org))
        with CaptureQueriesContext(connection) as queries:
            again = _names(appointment_types_active(organization=org))
            providers = _names(providers_active(organization=org))
        with CaptureQueriesContext(connection) as office_queries:
            open_monday = office_day(organization=org, day=MONDAY).is_open
    assert first == again == ["Checkup", "Cleaning"]
    assert providers == ["Dr. Molar", "Dr. Pearl"]
    assert len(queries) == 0
    assert open_monday
    assert len(office_queries) == 1  # that day's closures only: the hours are cached


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda o: AppointmentTypeFactory.create(organization=o["org"]), id="add-type"),
        pytest.param(lambda o: o["cleaning"].save(), id="save-type"),
        pytest.param(lambda o: ProviderFactory.create(organization=o["org"]), id="add-provider"),
        pytest.param(
            lambda o: ScheduleBlock.objects.filter(provider=o["pearl"]).delete(), id="drop-hours"
        ),
    ],
)
def test_every_edit_of_what_is_cached_raises_the_clinic_version(office, edit):
    before = _fresh(office["org"]).data_version
    with tenant_scope(office["org"]):
        edit(office)
    assert _fresh(office["org"]).data_version > before


def test_the_next_request_after_an_edit_sees_it(office):
    org = _fresh(office["org"])
    with tenant_scope(org):
        assert "Cleaning" in _names(appointment_types_active(organization=org))
        AppointmentType.objects.filter(pk=office["cleaning"].pk).update(is_active=False)
        Provider.objects.filter(pk=office["molar"].pk).update(name="Dr. Crown")
    org = _fresh(office["org"])
    with tenant_scope(org):
        assert _names(appointment_types_active(organization=org)) == ["Checkup"]
        assert _names(providers_active(organization=org)) == ["Dr. Crown", "Dr. Pearl"]


def test_a_clinic_without_hours_that_day_is_closed_as_soon_as_they_go(office):
    org = _fresh(office["org"])
    with tenant_scope(org):
        assert office_day(organization=org, day=MONDAY).is_open
        ScheduleBlock.objects.filter(organization=org, weekday=MONDAY.weekday()).delete()
    org = _fresh(office["org"])
    with tenant_scope(org):
        assert not office_day(organization=org, day=MONDAY).is_open


def test_a_stale_organization_reads_the_database_not_an_old_entry(office):
    stale = office["org"]  # loaded before its types and providers were added
    assert stale.data_version < _fresh(stale).data_version
    with tenant_scope(stale):
        AppointmentTypeFactory.create(organization=stale, name="Whitening")
        assert "Whitening" in _names(appointment_types_active(organization=stale))
        with CaptureQueriesContext(connection) as queries:
            clinic_data(organization=stale)
    assert len(queries) > 0


def test_saving_the_organization_from_an_old_instance_keeps_its_version(office):
    old = _fresh(office["org"])
    with tenant_scope(old):
        AppointmentTypeFactory.create(organization=old, name="Whitening")
    newer = _fresh(old).data_version
    old.office_hours = "Mon-Fri 8-5"
    old.save()
    assert _fresh(old).data_version == newer
