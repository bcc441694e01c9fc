"""Row-level security: the database refuses another organization's rows on its own."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from conversations.models import Conversation, Message
from tenants.rls import POLICY, tenant_models
from tenants.scoping import tenant_scope, unscoped
from tests.factories import ConversationFactory, MessageFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("_require_restricted_role")]


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.mark.django_db
def test_application_role_is_neither_superuser_nor_bypassrls_and_owns_no_tenant_table():
    [(superuser, bypass)] = _rows(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert (superuser, bypass) == (False, False)
    owned = _rows(
        "SELECT tablename FROM pg_tables WHERE tableowner = current_user AND tablename = ANY(%s)",
        [[m._meta.db_table for m in tenant_models()]],
    )
    assert owned == []


@pytest.mark.django_db
def test_every_tenant_table_forces_row_level_security_with_the_policy():
    tables = [m._meta.db_table for m in tenant_models()]
    assert {"conversations_conversation", "conversations_message", "tenants_phonenumber"} <= set(
        tables
    )
    for table in tables:
        [(enabled, forced)] = _rows(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
            [table],
        )
        assert (table, enabled, forced) == (table, True, True)
        policies = _rows(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = %s AND policyname = %s",
            [table, POLICY],
        )
        assert len(policies) == 1, table
        qual, with_check = policies[0]
        assert "lexi_scope_organization_ids" in qual
        assert "lexi_scope_organization_ids" in with_check


@pytest.mark.django_db
def test_raw_sql_in_a_scope_sees_only_that_organization(org_a, org_b):
    mine = ConversationFactory.create(organization=org_a)
    ConversationFactory.create(organization=org_b)
    with tenant_scope(org_a):
        rows = _rows("SELECT id, organization_id FROM conversations_conversation")
    assert rows == [(mine.pk, org_a.pk)]


@pytest.mark.django_db
def test_raw_sql_outside_any_scope_sees_no_tenant_rows(org_a, org_b):
    ConversationFactory.create(organization=org_a)
    ConversationFactory.create(organization=org_b)
    assert _rows("SELECT id FROM conversations_conversation") == []
    assert _rows("SELECT id FROM tenants_phonenumber") == []


@pytest.mark.django_db
def test_base_manager_bypassing_the_tenant_manager_still_sees_no_other_organization(org_a, org_b):
    mine = ConversationFactory.create(organization=org_a)
    ConversationFactory.create(organization=org_b)
    with tenant_scope(org_a):
        assert list(Conversation._base_manager.all()) == [mine]
        assert Conversation._base_manager.filter(organization=org_b).count() == 0


@pytest.mark.django_db
def test_cross_organization_insert_is_rejected(org_a, org_b):
    with tenant_scope(org_a), pytest.raises(DatabaseError), transaction.atomic():
        _rows(
            "INSERT INTO conversations_conversation (organization_id, session_id, channel, "
            "from_number, to_number, direction, call_status, start_timestamp, metadata, "
            "needs_attention, attention_reason, message_count, last_message_preview, "
            "patient_name, lexi_state, created_at, updated_at) VALUES (%s, 's', 'sms', '1', "
            "'2', 'inbound', 'ongoing', now(), '{}', false, '', 0, '', '', '{}', now(), now()) "
            "RETURNING id",
            [org_b.pk],
        )
    with unscoped():
        assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_cross_organization_update_is_rejected(org_a, org_b):
    conversation = ConversationFactory.create(organization=org_a)
    with tenant_scope(org_a), pytest.raises(DatabaseError), transaction.atomic():
        _rows(
            "UPDATE conversations_conversation SET organization_id = %s WHERE id = %s RETURNING id",
            [org_b.pk, conversation.pk],
        )
    with unscoped():
        assert Conversation.objects.get().organization_id == org_a.pk


@pytest.mark.django_db
def test_update_of_another_organizations_row_touches_nothing(org_a, org_b):
    theirs = ConversationFactory.create(organization=org_b)
    with tenant_scope(org_a):
        assert Conversation._base_manager.filter(pk=theirs.pk).update(needs_attention=True) == 0
    with unscoped():
        assert Conversation.objects.get(pk=theirs.pk).needs_attention is False


def _message_create_checked_now(**fields) -> Message:
    _execute("SET CONSTRAINTS ALL IMMEDIATE")
    return Message.objects.create(role="user", content="x", **fields)


@pytest.mark.django_db
def test_cross_organization_foreign_key_is_rejected(org_a, org_b):
    theirs = ConversationFactory.create(organization=org_b)
    with tenant_scope([org_a, org_b]), pytest.raises(IntegrityError), transaction.atomic():
        _message_create_checked_now(organization=org_a, conversation=theirs)
    with unscoped():
        assert not Message.objects.exists()


@pytest.mark.django_db
def test_same_organization_foreign_key_is_accepted(org_a):
    message = MessageFactory.create(conversation__organization=org_a)
    with tenant_scope(org_a):
        _execute("SET CONSTRAINTS ALL IMMEDIATE")
        assert Message.objects.get().pk == message.pk


@pytest.mark.django_db(transaction=True)
def test_alternating_scopes_on_one_persistent_connection_never_leak():
    organizations = [OrganizationFactory.create() for _ in range(3)]
    for organization in organizations:
        ConversationFactory.create(organization=organization)
    backend_pid = _rows("SELECT pg_backend_pid()")[0][0]
    for i in range(60):
        organization = organizations[i % 3]
        with tenant_scope(organization):
            seen = {
                row[0] for row in _rows("SELECT organization_id FROM conversations_conversation")
            }
        assert seen == {organization.pk}
        assert _rows("SELECT id FROM conversations_conversation") == []
    assert _rows("SELECT pg_backend_pid()")[0][0] == backend_pid
    assert _rows("SELECT current_setting('lexi.organization_ids', true)")[0][0] in ("", None)


@pytest.mark.django_db(transaction=True)
def test_iterator_outside_a_transaction_sees_the_scopes_rows():
    """A streamed read in autocommit must carry the scope as every other query does."""
    organization = OrganizationFactory.create()
    made = {ConversationFactory.create(organization=organization).pk for _ in range(3)}
    with tenant_scope(organization):
        assert {c.pk for c in Conversation.objects.iterator(chunk_size=2)} == made


@pytest.mark.django_db
def test_routing_works_before_any_organization_is_known(org_a):
    from tenants.selectors import organization_for_number
    from tests.factories import PhoneNumberFactory

    PhoneNumberFactory.create(organization=org_a, number="+18504036622")
    assert _rows("SELECT id FROM tenants_phonenumber") == []
    assert organization_for_number("(850) 403-6622", channel="sms") == org_a


@pytest.mark.django_db(transaction=True)
def test_migrate_runs_as_the_owner_when_an_owner_url_is_set(settings):
    from io import StringIO

    from django.core.management import call_command

    app_user = connection.settings_dict["USER"]
    settings.DATABASE_OWNER_URL = "postgres://lexi_owner@127.0.0.1:5432/unused"
    out = StringIO()
    call_command("migrate", verbosity=1, stdout=out)
    assert "Row-level security installed on tenant tables (lexi_owner)" in out.getvalue()
    assert connection.settings_dict["USER"] == app_user
    assert _rows("SELECT current_user")[0][0] == app_user
