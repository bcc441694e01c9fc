"""The tenant backend sends BEGIN, set_config and savepoints with the statement that needs them.

Counted on the wire (libpq's protocol trace), as the real connection sends them; row-level
security must hold exactly as before.
"""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from conversations.models import Conversation, Message
from tenants.postgresql.wire import WireTrace
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory, MessageFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("_require_restricted_role"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def statements_in_the_clear():
    """Statements sent as text each time: a prepared one goes by name, which `sent` can't read
    (the round trips are the same)."""
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None
    yield
    raw.prepare_threshold = before


def _server_in_transaction() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() <> statement_timestamp()")
        (inside,) = cursor.fetchone()
    return bool(inside)


@pytest.mark.usefixtures("statements_in_the_clear")
def test_a_transaction_costs_one_trip_per_statement_plus_its_commit(org_a, org_b):
    mine = ConversationFactory.create(organization=org_a)
    ConversationFactory.create(organization=org_b)
    with WireTrace(connection).tracing() as wire, tenant_scope(org_a), transaction.atomic():
        first = list(Conversation.objects.values_list("pk", flat=True))
        count = Message.objects.count()
    assert first == [mine.pk]  # row-level security applied from the first statement on
    assert count == 0
    assert wire.sent("BEGIN") == 1
    assert wire.round_trips == 3  # BEGIN + set_config + SELECT, SELECT, COMMIT


@pytest.mark.usefixtures("statements_in_the_clear")
def test_a_statement_in_autocommit_under_a_scope_is_one_trip_and_sees_its_tenant_only(org_a, org_b):
    ConversationFactory.create(organization=org_a)
    ConversationFactory.create(organization=org_b)
    with WireTrace(connection).tracing() as wire, tenant_scope(org_a):
        seen = Conversation.objects.count()
    assert seen == 1
    assert (wire.sent("BEGIN"), wire.sent("COMMIT")) == (1, 1)
    assert wire.round_trips == 1
    assert not _server_in_transaction()


def test_a_failing_autocommit_statement_leaves_no_transaction_open(org_a):
    message = MessageFactory.create(
        conversation=ConversationFactory.create(organization=org_a), provider_message_id="SMdup"
    )
    with tenant_scope(org_a):
        with pytest.raises(IntegrityError):
            Message.objects.create(
                organization=org_a,
                conversation=message.conversation,
                role=Message.Role.USER,
                provider_message_id="SMdup",
            )
        assert Message.objects.filter(provider_message_id="SMdup").count() == 1
    assert not _server_in_transaction()


@pytest.mark.usefixtures("statements_in_the_clear")
def test_a_savepoint_nothing_ran_in_is_never_sent(org_a):
    ConversationFactory.create(organization=org_a)
    with WireTrace(connection).tracing() as wire, tenant_scope(org_a), transaction.atomic():
        Conversation.objects.count()
        with transaction.atomic():
            pass
        with pytest.raises(ValueError, match="nothing was written"), transaction.atomic():
            raise ValueError("nothing was written")
        Conversation.objects.count()
    assert wire.sent("SAVEPOINT") == 0
    assert wire.sent("RELEASE") == 0


@pytest.mark.usefixtures("statements_in_the_clear")
def test_a_savepoint_rides_with_its_first_statement_and_rolls_back_what_failed(org_a, org_b):
    message = MessageFactory.create(
        conversation=ConversationFactory.create(organization=org_a), provider_message_id="SMonce"
    )
    with WireTrace(connection).tracing() as wire, tenant_scope(org_a), transaction.atomic():
        Conversation.objects.count()
        with pytest.raises(IntegrityError), transaction.atomic():
            Message.objects.create(
                organization=org_a,
                conversation=message.conversation,
                role=Message.Role.USER,
                provider_message_id="SMonce",
            )
        # The transaction goes on after the rollback to the savepoint, still under the scope.
        Message.objects.create(
            organization=org_a, conversation=message.conversation, role=Message.Role.USER
        )
        seen = Message.objects.count()
    assert seen == 2
    assert wire.sent("SAVEPOINT") == 1
    assert wire.sent("ROLLBACK TO SAVEPOINT") == 1
    with tenant_scope(org_b):
        assert Message.objects.count() == 0


def test_sql_of_several_statements_without_parameters_still_runs_in_a_transaction(org_a):
    ConversationFactory.create(organization=org_a)
    with tenant_scope(org_a), transaction.atomic(), connection.cursor() as cursor:
        # A pipeline takes one statement per command: this goes by the simple protocol.
        cursor.execute("SET LOCAL statement_timeout = '5s'; SELECT 1")
        cursor.execute("SELECT count(*) FROM conversations_conversation")
        (seen,) = cursor.fetchone()
        cursor.execute("SHOW statement_timeout")
        (timeout,) = cursor.fetchone()
    assert (seen, timeout) == (1, "5s")


def test_the_health_check_sends_nothing_yet_sees_a_backend_the_server_terminated():
    connection.ensure_connection()
    with WireTrace(connection).tracing() as wire:
        assert connection.is_usable()
    assert wire.lines == []  # not a single message either way

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    try:
        assert not connection.is_usable()
    finally:
        connection.close()
    connection.ensure_connection()  # the next request connects again
    assert connection.is_usable()
