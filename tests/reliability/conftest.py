"""Reliability suite fixtures: the clinics, the scripted OpenAI server, and the figures.

Every test adds what it did to FIGURES (requests tried, faults injected, messages lost,
cross-tenant leaks); the terminal summary prints the totals, which the README quotes.
"""

import threading
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from tenants.models import Organization
from tests.conftest import database_owner
from tests.factories import PhoneNumberFactory
from tests.lexi.conftest import openai_server  # the scripted OpenAI-compatible server
from tests.twilio_helpers import _twilio_settings

__all__ = ["FIGURES", "Figures", "_twilio_settings", "openai_server"]

BARTON_NUMBER = "+18504036622"  # fixtures/demo.json: Barton Dental
HARBOR_NUMBER = "+16195550142"  # fixtures/demo.json: Harbor Family Dentistry
CLINIC_NUMBER = "+18504036622"
PATIENT = "+16195551234"


class Figures:
    """Thread-safe counters shared by the whole session."""

    NAMES = {
        "requests": "webhook requests tried",
        "faults": "faults injected",
        "hostile": "hostile inputs sent",
        "stored": "inbound messages verified stored",
        "lost": "messages lost",
        "leaks": "cross-tenant leaks",
        "server_errors": "500 responses",
        "llm_calls": "LLM requests received",
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        if name not in self.NAMES:
            raise KeyError(name)
        with self._lock:
            self.counts[name] += amount

    def lines(self) -> list[str]:
        return [f"{label}: {self.counts[name]}" for name, label in self.NAMES.items()]


FIGURES = Figures()


@pytest.fixture
def figures() -> Figures:
    return FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not any(FIGURES.counts.values()):
        return
    terminalreporter.section("reliability figures")
    for line in FIGURES.lines():
        terminalreporter.write_line(line)


@pytest.fixture
def webhook_settings() -> dict[str, Any]:
    return {"LEXI_ENGINE": "offline", "OPENAI_API_KEY": "", "LEXI_SENDER_LIMIT_PER_MINUTE": 1000}


@pytest.fixture
def clinic(org_a: Organization) -> Organization:
    """Alpha Dental, reachable at CLINIC_NUMBER."""
    PhoneNumberFactory(organization=org_a, number=CLINIC_NUMBER)
    return org_a


def demo_load() -> dict[str, Organization]:
    """fixtures/demo.json (two clinics with schedules), by their texting number."""
    with database_owner():
        call_command("loaddata", "demo", verbosity=0)
    return {
        BARTON_NUMBER: Organization.objects.get(slug="barton-dental"),
        HARBOR_NUMBER: Organization.objects.get(slug="harbor-family-dentistry"),
    }
