"""`migrate`, then (re)install row-level security on every tenant-owned table (PostgreSQL)."""

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from tenants.rls import rls_install


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        connection = connections[options["database"]]
        if connection.vendor == "postgresql":
            rls_install(connection, app_role=settings.DATABASE_APP_ROLE)
            if options["verbosity"] >= 1:
                self.stdout.write("Row-level security installed on tenant tables.")
