import os
from pathlib import Path

import pytest

from tests.admin.builders import World, canary_world, unrouted_message

CHROMIUM = Path("/usr/bin/chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests skip without Debian's chromium, unless REQUIRE_BROWSER=1 (CI): then fail."""
    for item in items:
        if isinstance(item, pytest.Function) and item.get_closest_marker("browser"):
            item.fixturenames.insert(0, "_require_chromium")


@pytest.fixture
def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def world_a(db) -> World:
    return canary_world(tag="A", digit="1")


@pytest.fixture
def world_b(db) -> World:
    return canary_world(tag="B", digit="2")


@pytest.fixture
def unrouted(db):
    return unrouted_message()
