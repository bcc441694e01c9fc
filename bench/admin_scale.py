"""Section 4: the conversations admin at scale (after `manage.py bench_seed`).

In process (django.test.Client, lexi_app under row-level security), as a superuser and as a
staff user of one clinic: the changelist's first page, a channel filter, phone searches and one
conversation's transcript. Each page is loaded once to warm up, then timed a few times.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from bench import env
from bench.measure import counted, django_setup, median_ms, ms

CHANGELIST = "/admin/conversations/conversation/"
# A patient number bench_seed gives to ~10 conversations (index 10: area 619, 10*37 % 10000).
PHONE = "+16195550370"
STAFF_CLINIC = "barton-dental"


def users() -> tuple[Any, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from tenants.models import Membership, Organization
    from tenants.scoping import tenant_scope

    user_model = get_user_model()
    admin, _ = user_model.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    staff, created = user_model.objects.get_or_create(
        username=f"bench-staff-{STAFF_CLINIC}", defaults={"is_staff": True}
    )
    if created:
        staff.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label__in=("conversations", "booking", "tenants")
            )
        )
    clinic = Organization.objects.get(slug=STAFF_CLINIC)
    with tenant_scope(clinic):
        Membership.objects.get_or_create(
            user=staff, organization=clinic, defaults={"role": "staff"}
        )
    return admin, staff


def detail_url() -> str:
    from conversations.models import Conversation
    from tenants.models import Organization
    from tenants.scoping import tenant_scope

    clinic = Organization.objects.get(slug=STAFF_CLINIC)
    with tenant_scope(clinic):
        conversation = (
            Conversation.objects.filter(message_count__gte=10).order_by("-updated_at").first()
        )
    if conversation is None:
        raise SystemExit("no conversation to open: run manage.py bench_seed first")
    return f"{CHANGELIST}{conversation.pk}/change/"


def page(client: Any, url: str, *, repeats: int) -> dict[str, Any]:
    response = client.get(url)  # warm-up (and the status check)
    if response.status_code != 200:
        return {"url": url, "error": f"HTTP {response.status_code}"}
    samples = []
    slowest: list[tuple[float, str]] = []
    for index in range(repeats):
        _response, cost = counted(lambda: client.get(url), keep_sql=False)
        samples.append(cost)
        if index == 0:
            slowest = _slowest_queries(client, url)
    return {
        "url": url,
        "ms_median": median_ms([s.seconds for s in samples]),
        "ms_max": ms(max(s.seconds for s in samples)),
        "queries": max(s.statements for s in samples),
        "queries_with_begin_commit": max(s.queries for s in samples),
        "set_config": max(s.set_config for s in samples),
        "slowest": slowest,
    }


def _slowest_queries(client: Any, url: str) -> list[tuple[float, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    timed = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    return sorted(timed, reverse=True)[:3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    django_setup()
    from django.test import Client

    from conversations.models import Conversation, Message
    from tenants.scoping import unscoped

    with unscoped():
        sizes = {"conversations": Conversation.objects.count(), "messages": Message.objects.count()}
    admin, staff = users()
    pages = {
        "changelist, first page": CHANGELIST,
        "channel filter (sms)": f"{CHANGELIST}?channel=sms",
        "phone search (E.164)": f"{CHANGELIST}?q={quote(PHONE)}",
        "phone search (7 digits)": f"{CHANGELIST}?q={PHONE[-7:]}",
        "conversation detail": detail_url(),
    }
    rows = []
    for who, user in (("superuser", admin), (f"staff of {STAFF_CLINIC}", staff)):
        client = Client()
        client.force_login(user)
        for name, url in pages.items():
            rows.append({"who": who, "page": name, **page(client, url, repeats=args.repeats)})
    env.json_write(args.json_out, {"sizes": sizes, "rows": rows})


if __name__ == "__main__":
    main()
