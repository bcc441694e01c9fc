"""Alternating clinics over one persistent database connection: nothing carries over."""

import pytest
from django.db import connection

from tests.admin.builders import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("_require_restricted_role")]

CHANGELIST = "/admin/conversations/conversation/"


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_requests_alternating_clinics_never_see_the_previous_clinic(client, world_a, world_b):
    worlds = [world_a, world_b]
    pid = _backend_pid()
    for i in range(40):
        mine, theirs = worlds[i % 2], worlds[(i + 1) % 2]
        client.logout()
        assert client.login(username=mine.staff.username, password=PASSWORD)
        response = client.get(CHANGELIST)
        body = response.content.decode()
        assert response.status_code == 200
        assert mine.canary in body
        assert theirs.canary not in body
    assert _backend_pid() == pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM conversations_conversation")
        assert cursor.fetchone()[0] == 0
