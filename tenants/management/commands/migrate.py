"""`migrate` as the table owner, then (re)install row-level security on tenant tables.

With DATABASE_OWNER_URL set, the schema changes run with the owner's credentials on the same
database while the application keeps connecting as its restricted role (DATABASE_URL).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import environ
from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from tenants.rls import rls_install

_CREDENTIALS = ("USER", "PASSWORD")


@contextmanager
def _as_owner(connection: BaseDatabaseWrapper) -> Iterator[None]:
    if not settings.DATABASE_OWNER_URL or connection.vendor != "postgresql":
        yield
        return
    owner = environ.Env.db_url_config(settings.DATABASE_OWNER_URL)
    saved = {key: connection.settings_dict.get(key) for key in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: owner.get(key, "") for key in _CREDENTIALS})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        with _as_owner(connection):
            super().handle(*args, **options)
            if connection.vendor == "postgresql":
                rls_install(connection, app_role=settings.DATABASE_APP_ROLE)
                if options["verbosity"] >= 1:
                    user = connection.settings_dict.get("USER") or "the default role"
                    self.stdout.write(f"Row-level security installed on tenant tables ({user}).")
