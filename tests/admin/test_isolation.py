"""No staff user sees, or changes, anything of another clinic through any admin URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.models import Provider
from conversations.models import Conversation, ConversationRead, Message
from sms.sending import locmem
from tenants.models import Organization
from tenants.scoping import TenantModel, unscoped
from tests.admin.builders import PLATFORM_CANARY, TOKEN_CANARY, World, canary_world
from tests.factories import ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _urls_for(world: World) -> list[str]:
    """Every admin page of every registered model, for `world`'s objects."""
    urls = [reverse("admin:index"), reverse("admin:lexi_statistics")]
    urls += [f"{reverse('admin:lexi_statistics')}?period=custom&start=2020-01-01&end=2027-12-31"]
    for model, model_admin in admin.site._registry.items():
        app = model._meta.app_label
        urls.append(reverse("admin:app_list", args=[app]))
        urls.append(_admin_url(model, "changelist"))
        urls.append(_admin_url(model, "changelist") + "?q=ARY")
        urls.append(_admin_url(model, "add"))
        obj = world.objects.get(model)
        if obj is not None:
            urls.append(_admin_url(model, "change", obj.pk))
            urls.append(_admin_url(model, "delete", obj.pk))
            urls.append(_admin_url(model, "history", obj.pk))
            ct = ContentType.objects.get_for_model(model)
            urls.append(reverse("admin:view_on_site", args=[ct.pk, obj.pk]))
        for field_name in model_admin.autocomplete_fields:
            urls.append(
                f"{reverse('admin:autocomplete')}?app_label={app}"
                f"&model_name={model._meta.model_name}&field_name={field_name}&term="
            )
    return urls


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every tenant row and organization, as plain values."""
    rows: dict[str, list[dict[str, Any]]] = {}
    with unscoped():
        candidates: list[type[models.Model]] = [Organization, *admin.site._registry]
        for model in candidates:
            if model is Organization or issubclass(model, TenantModel):
                objects = model._default_manager.order_by("pk")
                rows[model._meta.label] = [model_to_dict(o) for o in objects]
    return rows


def test_every_tenant_model_in_the_admin_has_canary_rows(world_a: World) -> None:
    registered = {
        m for m in admin.site._registry if issubclass(m, TenantModel) or m is Organization
    }
    missing = registered - set(world_a.objects)
    assert not missing, f"add canary rows for {missing} in tests/admin/builders.py"


@pytest.mark.parametrize(("me", "other"), [("world_a", "world_b"), ("world_b", "world_a")])
def test_staff_see_nothing_of_another_clinic_on_any_admin_page(
    request: pytest.FixtureRequest, me: str, other: str, unrouted: Any
) -> None:
    mine: World = request.getfixturevalue(me)
    theirs: World = request.getfixturevalue(other)
    client = Client()
    client.force_login(mine.staff)
    forbidden = [s.lower() for s in [*theirs.secrets, TOKEN_CANARY, PLATFORM_CANARY]]
    pages = _urls_for(mine) + _urls_for(theirs)
    assert len(pages) > 60
    seen_own_canary = False
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302, 403, 404), url
        body = response.content.decode().lower()
        leaks = [s for s in forbidden if s in body]
        assert not leaks, f"{url} shows {leaks}"
        seen_own_canary = seen_own_canary or mine.canary.lower() in body
    assert seen_own_canary


def test_another_clinics_object_is_not_found(world_a: World, world_b: World) -> None:
    client = Client()
    client.force_login(world_a.staff)
    for model, obj in world_b.objects.items():
        if model not in admin.site._registry:
            continue
        for view in ("change", "delete", "history"):
            response = client.get(_admin_url(model, view, obj.pk))
            # The admin answers "doesn't exist" with a redirect to the index (or 403 if
            # the user may not view that model at all); never with the page.
            assert response.status_code in (302, 403, 404), (model, view)
            if response.status_code == 302:
                assert response["Location"] == reverse("admin:index"), (model, view)
        ct = ContentType.objects.get_for_model(model)
        assert client.get(reverse("admin:view_on_site", args=[ct.pk, obj.pk])).status_code == 404


def test_refused_writes_change_nothing(world_a: World, world_b: World) -> None:
    client = Client()
    client.force_login(world_a.staff)
    before = _snapshot()
    for model, obj in world_b.objects.items():
        if model not in admin.site._registry:
            continue
        with unscoped():
            data = {k: v for k, v in model_to_dict(obj).items() if v is not None}
        data.update({"name": "HACKED", "notes": "HACKED", "reason": "HACKED"})
        client.post(_admin_url(model, "change", obj.pk), data)
        client.post(_admin_url(model, "delete", obj.pk), {"post": "yes"})
        changelist = _admin_url(model, "changelist")
        for action in (
            "delete_selected",
            "mark_resolved",
            "clear_needs_attention",
            "assign_to_me",
            "mark_read",
            "mark_unread",
        ):
            client.post(changelist, {"action": action, "_selected_action": [obj.pk], "post": "yes"})
    conversation = world_b.objects[Conversation]
    resolve = reverse("admin:conversations_conversation_resolve", args=[conversation.pk])
    assert client.post(resolve, {"what": "complete"}).status_code == 404
    assert _snapshot() == before


def test_new_objects_cannot_be_created_in_another_clinic(world_a: World, world_b: World) -> None:
    client = Client()
    client.force_login(world_a.staff)
    before = _snapshot()
    other = str(world_b.organization.pk)
    posts = {
        "booking/provider": {
            "organization": other,
            "name": "Dr. Intruder",
            "is_active": "on",
            "schedule-TOTAL_FORMS": "0",
            "schedule-INITIAL_FORMS": "0",
        },
        "booking/appointmenttype": {
            "organization": other,
            "name": "Intruder",
            "duration_minutes": "30",
        },
        "booking/patient": {
            "organization": other,
            "first_name": "In",
            "last_name": "Truder",
            "phone": "+16195559999",
        },
        "booking/closure": {"organization": other, "date": "2026-12-24"},
        "tenants/membership": {
            "organization": other,
            "user": str(world_a.staff.pk),
            "role": "owner",
        },
    }
    for path, data in posts.items():
        response = client.post(f"/admin/{path}/add/", data)
        assert response.status_code == 200, path  # the form again, with an error
        assert b"Select a valid choice" in response.content, path
    assert _snapshot() == before


def test_a_provider_of_one_clinic_cannot_be_used_by_another(world_a: World) -> None:
    """A user of two clinics still cannot point a row of one at a row of the other."""
    world_c = canary_world(tag="C", digit="3")
    MembershipFactory.create(organization=world_c.organization, user=world_a.staff)
    client = Client()
    client.force_login(world_a.staff)
    before = _snapshot()
    response = client.post(
        "/admin/booking/scheduleblock/add/",
        {
            "organization": str(world_a.organization.pk),
            "provider": str(world_c.objects[Provider].pk),
            "weekday": "1",
            "start_time": "08:00",
            "end_time": "09:00",
        },
    )
    assert response.status_code == 200
    assert b"same organization" in response.content
    assert _snapshot() == before


def test_superuser_sees_every_clinic_with_an_organization_column_and_filter(
    world_a: World, world_b: World, admin_client: Client
) -> None:
    response = admin_client.get(_admin_url(Conversation, "changelist"))
    body = response.content.decode()
    assert response.status_code == 200
    assert world_a.canary in body
    assert world_b.canary in body
    assert "column-organization" in body
    assert "By organization" in body
    assert body.count(world_b.organization.name) >= 2  # a row and a filter option


def test_the_auth_token_is_never_rendered(world_a: World, admin_client: Client) -> None:
    client = Client()
    client.force_login(world_a.staff)
    url = _admin_url(Organization, "change", world_a.organization.pk)
    for c in (client, admin_client):
        body = c.get(url).content.decode()
        assert TOKEN_CANARY not in body
        assert "Set (hidden)" in body


def test_saving_the_organization_keeps_the_token_unless_a_new_one_is_given(
    world_a: World,
) -> None:
    client = Client()
    client.force_login(world_a.staff)
    org = world_a.organization
    url = _admin_url(Organization, "change", org.pk)
    data = {k: v for k, v in model_to_dict(org).items() if v is not None}
    data.update({"lexi_instructions": "Be brief.", "twilio_auth_token": ""})
    data.pop("is_active")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.lexi_instructions == "Be brief."
    assert org.twilio_auth_token == f"{TOKEN_CANARY}A"
    client.post(url, {**data, "twilio_auth_token": "new-token"})
    org.refresh_from_db()
    assert org.twilio_auth_token == "new-token"


TAKEOVER_POSTS = {
    "reply": {"body": "HACKED"},
    "pause": {},
    "hand_back": {},
    "assign": {"to": "me"},
    "read": {"read": "1"},
}


@pytest.mark.parametrize("action", sorted(TAKEOVER_POSTS))
def test_takeover_actions_on_another_clinics_conversation_are_not_found_and_do_nothing(
    world_a: World, world_b: World, action: str, django_capture_on_commit_callbacks: Any
) -> None:
    """Reply, pause, hand back, assign, mark read: a guessed id of clinic B is a 404."""
    theirs = ConversationFactory.create(
        organization=world_b.organization,
        from_number="+16195550777",
        to_number=world_b.numbers[0],
        lexi_paused_until=timezone.now() + timedelta(hours=1),
    )
    client = Client()
    client.force_login(world_a.staff)
    before = _snapshot(), _side_effects()

    url = reverse(f"admin:conversations_conversation_{action}", args=[theirs.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, TAKEOVER_POSTS[action])

    assert response.status_code == 404
    assert (_snapshot(), _side_effects()) == before
    assert locmem.outbox == []


def _side_effects() -> dict[str, Any]:
    with unscoped():
        return {
            "messages": list(Message.objects.order_by("pk").values()),
            "reads": list(ConversationRead.objects.values()),
            "log": LogEntry.objects.count(),
        }
