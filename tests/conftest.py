import os

import pytest
from django.db import connection

from tests.factories import OrganizationFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests skip on SQLite, unless REQUIRE_POSTGRES=1 (CI), where they fail."""
    for item in items:
        if isinstance(item, pytest.Function) and item.get_closest_marker("postgres"):
            item.fixturenames.append("_require_postgres")


@pytest.fixture
def _require_postgres() -> None:
    if connection.vendor == "postgresql":
        return
    reason = "needs PostgreSQL (set DATABASE_URL=postgres://...)"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but the database is {connection.vendor}: {reason}")
    pytest.skip(reason)


@pytest.fixture
def org_a():
    return OrganizationFactory(name="Alpha Dental", slug="alpha-dental")


@pytest.fixture
def org_b():
    return OrganizationFactory(name="Bravo Dental", slug="bravo-dental")
