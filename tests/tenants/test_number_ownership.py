"""One active owner per number, whatever it takes: the database, the admin and the migration."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tenants.admin import PhoneNumberForm
from tenants.models import PhoneNumber
from tenants.scoping import tenant_scope, unscoped
from tenants.selectors import NumberClaim, number_claims, organization_for_number
from tests.factories import OrganizationFactory, PhoneNumberFactory, UserFactory

NUMBER = "+18504036622"
ADD = "admin:tenants_phonenumber_add"


def _numbers() -> list[tuple[str, str, bool, bool, bool, str]]:
    with unscoped():
        return list(
            PhoneNumber.objects.order_by("number", "organization__slug", "pk").values_list(
                "number",
                "organization__slug",
                "sms_enabled",
                "voice_enabled",
                "is_active",
                "messaging_service_sid",
            )
        )


def _create(**fields) -> PhoneNumber:
    with transaction.atomic():
        return PhoneNumberFactory.create(**fields)


# The database


@pytest.mark.django_db
def test_clinic_b_cannot_claim_a_number_active_in_clinic_a(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    with pytest.raises(IntegrityError):
        _create(organization=org_b, number=NUMBER, sms_enabled=False, voice_enabled=True)
    assert _numbers() == [(NUMBER, "alpha-dental", True, False, True, "")]
    assert organization_for_number(NUMBER, channel="sms") == org_a
    assert organization_for_number(NUMBER, channel="voice") is None


@pytest.mark.django_db
def test_a_clinic_cannot_hold_a_number_in_two_active_rows(org_a):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    with pytest.raises(IntegrityError):
        _create(organization=org_a, number=NUMBER, sms_enabled=False, voice_enabled=True)
    assert _numbers() == [(NUMBER, "alpha-dental", True, False, True, "")]


@pytest.mark.django_db
def test_inactive_rows_may_repeat_an_active_number(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    PhoneNumberFactory.create(organization=org_b, number=NUMBER, is_active=False)
    PhoneNumberFactory.create(organization=org_b, number=NUMBER, is_active=False)
    assert organization_for_number(NUMBER, channel="sms") == org_a


@pytest.mark.django_db
def test_an_inactive_row_cannot_be_activated_while_another_clinic_holds_the_number(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    old = PhoneNumberFactory.create(organization=org_b, number=NUMBER, is_active=False)
    with tenant_scope(org_b), pytest.raises(IntegrityError), transaction.atomic():
        PhoneNumber.objects.filter(pk=old.pk).update(is_active=True)
    assert organization_for_number(NUMBER, channel="sms") == org_a
    with unscoped():
        assert PhoneNumber.objects.get(pk=old.pk).is_active is False


@pytest.mark.django_db
def test_an_active_messaging_service_belongs_to_one_number(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, messaging_service_sid="MG1")
    with pytest.raises(IntegrityError):
        _create(organization=org_b, messaging_service_sid="MG1")
    PhoneNumberFactory.create(organization=org_b, messaging_service_sid="MG1", is_active=False)
    assert organization_for_number("+19999999999", "MG1", channel="sms") == org_a


@pytest.mark.django_db
def test_numbers_without_a_messaging_service_do_not_collide(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, messaging_service_sid="")
    PhoneNumberFactory.create(organization=org_b, messaging_service_sid="")
    assert len(_numbers()) == 2


@pytest.mark.django_db
def test_a_number_takes_at_least_one_channel(org_a):
    with pytest.raises(IntegrityError):
        _create(organization=org_a, number=NUMBER, sms_enabled=False, voice_enabled=False)
    assert _numbers() == []


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.usefixtures("_require_restricted_role")
def test_the_database_refuses_a_number_held_by_a_clinic_the_scope_cannot_see(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER, messaging_service_sid="MG1")
    with tenant_scope(org_b):
        assert not PhoneNumber.objects.exists()
        for fields in ({"number": NUMBER}, {"messaging_service_sid": "MG1"}):
            with pytest.raises(IntegrityError), transaction.atomic():
                PhoneNumber.objects.create(organization=org_b, **fields)
        assert not PhoneNumber.objects.exists()
    assert organization_for_number(NUMBER, channel="sms") == org_a


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.usefixtures("_require_restricted_role")
def test_number_claims_see_across_clinics_from_inside_a_scope(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER, messaging_service_sid="MG1")
    with tenant_scope(org_b):
        claims = number_claims(number=NUMBER, messaging_service_sid="MG1", excluding_pk=None)
    assert sorted(claims, key=lambda c: c.field) == [
        NumberClaim(field="messaging_service_sid", organization_id=org_a.pk),
        NumberClaim(field="number", organization_id=org_a.pk),
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_routing_has_one_signature_and_only_granted_roles_execute_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_function_identity_arguments(oid) FROM pg_proc "
            "WHERE proname = 'lexi_route_number'"
        )
        signatures = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT has_function_privilege('public', 'lexi_route_number(text, text, text)', "
            "'EXECUTE'), has_function_privilege('public', "
            "'lexi_number_claims(text, text, bigint)', 'EXECUTE')"
        )
        public = cursor.fetchone()
    assert signatures == ["p_number text, p_messaging_service_sid text, p_channel text"]
    assert public == (False, False)


# The admin


def _platform_admin() -> Client:
    client = Client()
    client.force_login(UserFactory.create(is_superuser=True))
    return client


def _add(client: Client, organization, **fields) -> str:
    data = {
        "organization": str(organization.pk),
        "number": NUMBER,
        "sms_enabled": "on",
        "is_active": "on",
        "friendly_name": "",
        "messaging_service_sid": "",
        **fields,
    }
    data = {key: value for key, value in data.items() if value is not None}
    response = client.post(reverse(ADD), data)
    assert response.status_code in (200, 302)
    return response.content.decode() if response.status_code == 200 else ""


@pytest.mark.django_db
def test_admin_refuses_a_number_active_in_another_clinic(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    page = _add(_platform_admin(), org_b, voice_enabled="on", sms_enabled=None)
    assert "This number is already active in another clinic" in page
    assert _numbers() == [(NUMBER, "alpha-dental", True, False, True, "")]


@pytest.mark.django_db
def test_admin_refuses_a_second_active_row_for_a_number_of_the_same_clinic(org_a):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    page = _add(_platform_admin(), org_a, voice_enabled="on", sms_enabled=None)
    assert "This number is already active in this clinic" in page
    assert page.count("already active") == 1
    assert len(_numbers()) == 1


@pytest.mark.django_db
def test_admin_refuses_another_clinics_active_messaging_service(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, messaging_service_sid="MG1")
    page = _add(_platform_admin(), org_b, messaging_service_sid="MG1")
    assert "This messaging service is already set on an active number in another clinic" in page
    assert page.count("already set") == 1
    assert [row[1] for row in _numbers()] == ["alpha-dental"]


@pytest.mark.django_db
def test_admin_refuses_a_number_that_takes_no_channel(org_a):
    page = _add(_platform_admin(), org_a, sms_enabled=None)
    assert "A number takes SMS, voice or both" in page
    assert _numbers() == []


@pytest.mark.django_db
def test_admin_adds_a_number_for_both_channels_and_keeps_an_inactive_duplicate(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER)
    client = _platform_admin()
    assert _add(client, org_b, voice_enabled="on", is_active=None) == ""
    other = "+16195550142"
    assert _add(client, org_b, number=other, voice_enabled="on") == ""
    assert organization_for_number(other, channel="sms") == org_b
    assert organization_for_number(other, channel="voice") == org_b


@pytest.mark.django_db
def test_admin_saves_a_number_that_holds_its_own_number_and_service(org_a):
    phone = PhoneNumberFactory.create(
        organization=org_a, number=NUMBER, messaging_service_sid="MG1"
    )
    url = reverse("admin:tenants_phonenumber_change", args=[phone.pk])
    data = {
        "number": NUMBER,
        "sms_enabled": "on",
        "voice_enabled": "on",
        "is_active": "on",
        "friendly_name": "Front desk",
        "messaging_service_sid": "MG1",
    }
    assert _platform_admin().post(url, data).status_code == 302
    assert _numbers() == [(NUMBER, "alpha-dental", True, True, True, "MG1")]


@pytest.mark.django_db
def test_the_form_refuses_a_number_its_scope_cannot_see(org_a, org_b):
    PhoneNumberFactory.create(organization=org_a, number=NUMBER, messaging_service_sid="MG1")
    data = {
        "organization": str(org_b.pk),
        "number": NUMBER,
        "sms_enabled": "on",
        "is_active": "on",
        "messaging_service_sid": "MG1",
    }
    with tenant_scope(org_b), transaction.atomic():
        form = PhoneNumberForm(data=data)
        assert not form.is_valid()
    assert "already active in another clinic" in form.errors["number"][0]
    assert "another clinic" in form.errors["messaging_service_sid"][0]
    assert [row[1] for row in _numbers()] == ["alpha-dental"]


# The migration


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("as_table_owner")
def test_the_migration_merges_channels_and_keeps_the_older_owner():
    a = OrganizationFactory.create(slug="a")
    b = OrganizationFactory.create(slug="b")
    executor = MigrationExecutor(connection)
    executor.migrate([("tenants", "0002_organization_lexi_reply_mode")])
    old = executor.loader.project_state([("tenants", "0002_organization_lexi_reply_mode")]).apps
    rows = old.get_model("tenants", "PhoneNumber").objects
    rows.create(organization_id=a.pk, number="+18505550001", channel="sms")
    rows.create(organization_id=a.pk, number="+18505550001", channel="voice", friendly_name="A")
    rows.create(organization_id=a.pk, number="+18505550002", channel="sms")
    rows.create(organization_id=b.pk, number="+18505550002", channel="voice")
    rows.create(organization_id=b.pk, number="+18505550003", channel="whatsapp")
    rows.create(organization_id=a.pk, number="+18505550004", messaging_service_sid="MG1")
    rows.create(organization_id=b.pk, number="+18505550005", messaging_service_sid="MG1")

    executor.loader.build_graph()
    executor.migrate([("tenants", "0003_phonenumber_one_owner_per_number")])

    assert _numbers() == [
        ("+18505550001", "a", True, True, True, ""),
        ("+18505550002", "a", True, False, True, ""),
        ("+18505550002", "b", False, True, False, ""),
        ("+18505550003", "b", True, False, True, ""),
        ("+18505550004", "a", True, False, True, "MG1"),
        ("+18505550005", "b", True, False, True, ""),
    ]
    # The models below are today's: the database goes back to the latest migrations first.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    with unscoped():
        assert PhoneNumber.objects.get(number="+18505550001").friendly_name == "A"
    assert organization_for_number("+18505550002", channel="sms") == a
    assert organization_for_number("+18505550002", channel="voice") is None
    assert organization_for_number("+18505550005", channel="sms") == b
