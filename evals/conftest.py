"""`make eval`: whole conversations, written as patients write, through the signed SMS webhook
with the offline engine; prints the share that ended as the patient meant."""

from typing import Any

import pytest

from tests.conftest import *  # noqa: F403 -- the test suite's database and tenant fixtures
from tests.twilio_helpers import _twilio_settings, webhook_settings

__all__ = ["_twilio_settings", "webhook_settings"]

OUTCOMES: dict[str, bool] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and "conversation" in item.fixturenames:
        OUTCOMES[item.callspec.id] = report.passed


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not OUTCOMES:
        return
    ended_well = sum(OUTCOMES.values())
    share = ended_well / len(OUTCOMES)
    terminalreporter.write_line(
        f"\nLexi eval: {ended_well}/{len(OUTCOMES)} conversations ended correctly ({share:.0%})"
    )
    for name, passed in OUTCOMES.items():
        if not passed:
            terminalreporter.write_line(f"  missed: {name}")
