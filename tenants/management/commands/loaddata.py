"""`loaddata` as a platform operation: fixtures span organizations, so it runs unscoped."""

from typing import Any

from django.core.management.commands import loaddata

from tenants.scoping import unscoped


class Command(loaddata.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with unscoped():
            super().handle(*args, **options)
