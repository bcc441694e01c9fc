import threading
from contextlib import nullcontext

import pytest
from django.db.models import Count

from conversations.models import Conversation
from tenants.scoping import (
    ScopeError,
    current_organization_ids,
    scope_required,
    tenant_scope,
    unscoped,
)
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

QUERIES_OUTSIDE_SCOPE = {
    "all": lambda qs: list(qs.all()),
    "filter": lambda qs: list(qs.filter(channel="sms")),
    "exclude": lambda qs: list(qs.exclude(channel="sms")),
    "get": lambda qs: qs.get(pk=1),
    "first": lambda qs: qs.first(),
    "exists": lambda qs: qs.exists(),
    "count": lambda qs: qs.count(),
    "aggregate": lambda qs: qs.aggregate(n=Count("id")),
    "values": lambda qs: list(qs.values("id")),
    "in_bulk": lambda qs: qs.in_bulk([1]),
    "update": lambda qs: qs.update(needs_attention=True),
    "delete": lambda qs: qs.all().delete(),
    "iterator": lambda qs: list(qs.iterator()),
    "select_related": lambda qs: list(qs.select_related("organization")),
    "get_or_create": lambda qs: qs.get_or_create(session_id="x"),
}


@pytest.mark.parametrize("query", QUERIES_OUTSIDE_SCOPE.values(), ids=QUERIES_OUTSIDE_SCOPE.keys())
def test_every_query_kind_raises_outside_a_scope(query, org_a):
    ConversationFactory(organization=org_a)
    with pytest.raises(ScopeError):
        query(Conversation.objects)
    with unscoped():
        assert Conversation.objects.get().needs_attention is False


def test_scope_sees_only_its_own_organization(org_a, org_b):
    mine = ConversationFactory(organization=org_a)
    ConversationFactory(organization=org_b)
    with tenant_scope(org_a):
        assert list(Conversation.objects.all()) == [mine]
        assert Conversation.objects.count() == 1


def test_scope_of_several_organizations_sees_each(org_a, org_b):
    ConversationFactory(organization=org_a)
    ConversationFactory(organization=org_b)
    with tenant_scope([org_a, org_b]):
        assert Conversation.objects.count() == 2


def test_creating_inside_a_scope_fills_in_the_organization(org_a):
    with tenant_scope(org_a):
        conversation = Conversation.objects.create(
            session_id="s", from_number="+16195551234", to_number="+18504036622"
        )
    assert conversation.organization_id == org_a.pk


def test_saving_an_object_of_another_organization_raises(org_a, org_b):
    with tenant_scope(org_a), pytest.raises(ScopeError):
        Conversation(organization=org_b, session_id="s", from_number="1", to_number="2").save()
    with unscoped():
        assert not Conversation.objects.exists()


def test_bulk_creating_objects_of_another_organization_raises(org_a, org_b):
    with tenant_scope(org_a), pytest.raises(ScopeError):
        Conversation.objects.bulk_create(
            [Conversation(organization=org_b, session_id="s", from_number="1", to_number="2")]
        )
    with unscoped():
        assert not Conversation.objects.exists()


def test_saving_outside_any_scope_raises(org_a):
    with pytest.raises(ScopeError):
        Conversation(organization=org_a, session_id="s", from_number="1", to_number="2").save()


def test_moving_an_object_to_another_organization_raises(org_a, org_b):
    conversation = ConversationFactory.create(organization=org_a)
    with tenant_scope(org_a):
        conversation.organization = org_b
        with pytest.raises(ScopeError):
            conversation.save()
    with unscoped():
        assert Conversation.objects.get().organization_id == org_a.pk


def test_scope_is_local_to_a_thread(org_a):
    seen: list[object] = []

    def other_thread() -> None:
        seen.append(current_organization_ids())

    with tenant_scope(org_a):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert current_organization_ids() == [org_a.pk]
    assert seen == [[]]


def test_scope_ends_with_its_block(org_a):
    with tenant_scope(org_a):
        pass
    with pytest.raises(ScopeError):
        Conversation.objects.count()


def test_scope_required_passes_only_in_exactly_that_organizations_scope(org_a, org_b):
    with tenant_scope(org_a):
        scope_required(org_a)
        scope_required(org_a.pk)
        with pytest.raises(ScopeError):
            scope_required(org_b)
    for outside in (nullcontext(), unscoped(), tenant_scope([org_a, org_b])):
        with outside, pytest.raises(ScopeError):
            scope_required(org_a)
