"""The admin index: no "Recent actions" for clinic staff (they may have left a clinic)."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tenants.models import Membership
from tenants.scoping import tenant_scope
from tests.admin.builders import staff_user
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _edited(user, name: str) -> None:
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Membership),
        object_id="1",
        object_repr=name,
        action_flag=ADDITION,
    )


def test_staff_do_not_see_names_of_objects_edited_in_a_clinic_they_left():
    left = OrganizationFactory.create()
    stays = OrganizationFactory.create()
    user = staff_user(stays, "front-desk")
    _edited(user, "Patient CANARYLEFT")
    with tenant_scope(left):
        assert not Membership.objects.filter(user=user).exists()
    client = Client()
    client.force_login(user)
    body = client.get("/admin/").content.decode()
    assert "CANARYLEFT" not in body


def test_superusers_keep_recent_actions():
    admin = UserFactory.create(is_superuser=True)
    _edited(admin, "Patient CANARYKEPT")
    client = Client()
    client.force_login(admin)
    assert "CANARYKEPT" in client.get("/admin/").content.decode()
