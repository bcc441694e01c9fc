import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, connections

from sms.sending import locmem
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


TABLE_OWNER: dict[str, str] = {}


@contextmanager
def database_owner() -> Iterator[None]:
    """Connect as the role that owns the tables for a while (a migration, loaddata's sequence
    resets), where the suite otherwise runs as the restricted application role. Only for
    transactional tests: the connection is closed around it."""
    default = connections["default"]
    owner = TABLE_OWNER.get("user")
    if default.vendor != "postgresql" or not owner:
        yield
        return
    app_role = default.settings_dict["USER"]
    default.close()
    default.settings_dict["USER"] = owner
    try:
        yield
    finally:
        default.close()
        default.settings_dict["USER"] = app_role


@pytest.fixture
def as_table_owner() -> Iterator[None]:
    with database_owner():
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """With TEST_DATABASE_APP_ROLE set (CI), build the test database as the owner, then run
    every test as the restricted application role, so row-level security is really in force."""
    role = os.environ.get("TEST_DATABASE_APP_ROLE", "")
    default = connections["default"]
    if not role or default.vendor != "postgresql":
        yield
        return
    owner = default.settings_dict["USER"]
    TABLE_OWNER["user"] = owner
    with django_db_blocker.unblock():
        with default.cursor() as cursor:
            # Transactional tests empty the tables between tests; the application never may.
            cursor.execute(
                f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {default.ops.quote_name(role)}"
            )
        default.close()
    default.settings_dict["USER"] = role
    yield
    with django_db_blocker.unblock():
        connections.close_all()
    default.settings_dict["USER"] = owner


@pytest.fixture
def _require_restricted_role(_require_postgres) -> None:
    """RLS tests mean something only as a role that row-level security binds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        (bypasses,) = cursor.fetchone()
    if not bypasses:
        return
    reason = "connected as a role that bypasses RLS (set TEST_DATABASE_APP_ROLE=lexi_app)"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Logins in tests need no key stretching; production keeps Django's default hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings) -> None:
    """Background tasks run at once, in the test's process; end-to-end tests start a worker."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.LEXI_SMS_BACKEND = "locmem"
    locmem.outbox.clear()


def pytest_sessionstart(session: Any) -> None:
    """Lexi's Spanish texts are tested: compile the translations if `make install` did not."""
    from lexi.translations import translations_compile

    translations_compile()
