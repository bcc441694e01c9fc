"""Local admin logins for the demo: a superuser and one staff user per demo organization.

Passwords come from DEMO_PASSWORD when set, else are generated and printed once (only when the
user is created). Running it again changes nothing.
"""

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from tenants.models import Membership, Organization
from tenants.scoping import tenant_scope

STAFF_APPS = ("conversations", "booking", "tenants", "sms", "reminders")


class Command(BaseCommand):
    help = "Create the demo's admin logins (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        created: list[tuple[str, str]] = []
        admin, is_new = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if is_new:
            created.append(("admin", self._set_password(admin)))
        staff_permissions = list(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
        for organization in Organization.objects.filter(slug__in=DEMO_SLUGS):
            username = f"staff-{organization.slug}"
            user, is_new = user_model.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "email": f"{username}@example.com"},
            )
            if is_new:
                created.append((username, self._set_password(user)))
                user.user_permissions.set(staff_permissions)
            with tenant_scope(organization):
                # Alerts on: in development the console email backend prints them.
                Membership.objects.get_or_create(
                    user=user,
                    organization=organization,
                    defaults={"role": "admin", "attention_alerts": True},
                )
        if not created:
            self.stdout.write("Demo logins already exist (admin, staff-<clinic>).")
            return
        self.stdout.write(self.style.SUCCESS("Admin logins (shown once) at /admin/:"))
        for username, password in created:
            self.stdout.write(f"  {username:32} {password}")

    def _set_password(self, user: Any) -> str:
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        user.set_password(password)
        user.save()
        return password


DEMO_SLUGS = ("barton-dental", "harbor-family-dentistry")
