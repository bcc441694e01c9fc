"""The system prompt: rules first, then the office, then its instructions, then the time."""

from datetime import UTC, datetime

import pytest

from lexi.prompts import RULES, system_prompt

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)  # 9:05 AM in New York
EVENING = datetime(2026, 12, 1, 23, 40, tzinfo=UTC)


def test_prompt_starts_with_the_shared_rules_and_ends_with_local_now(org_a, org_b):
    prompt_a = system_prompt(organization=org_a, now=MORNING, first_message=False)
    prompt_b = system_prompt(organization=org_b, now=MORNING, first_message=False)
    assert prompt_a.startswith(RULES)
    assert prompt_b.startswith(RULES)
    assert prompt_a.endswith(
        "Now: Tuesday, December 1, 2026, 9:05 AM (2026-12-01, America/New_York)."
    )


def test_only_the_last_section_changes_between_turns(org_a):
    org_a.lexi_instructions = "Dr. Pearl does not see children."
    earlier = system_prompt(organization=org_a, now=MORNING, first_message=True)
    later = system_prompt(organization=org_a, now=EVENING, first_message=False)
    prefix = earlier.rsplit("\n\n", 1)[0]
    assert later.rsplit("\n\n", 1)[0] == prefix
    assert prefix.endswith("Dr. Pearl does not see children.")
    assert "Alpha Dental" in prefix
    assert "first message" in earlier.rsplit("\n\n", 1)[1]


def test_prompt_carries_the_greeting_and_the_behaviour_rules(org_a):
    prompt = system_prompt(organization=org_a, now=MORNING, first_message=True)
    assert "Hi! Welcome to Alpha Dental. This is Lexi. How can I help you today?" in prompt
    assert "under 320 characters" in prompt
    assert "one question at a time" in prompt
    assert "single word CANCEL" in prompt
    assert "hand_off_to_staff" in prompt
    assert "Office: Alpha Dental" in prompt
    assert "Hours: Mon-Fri 8am-5pm" in prompt


def test_the_date_follows_the_organizations_timezone(org_a):
    org_a.timezone = "America/Los_Angeles"
    prompt = system_prompt(organization=org_a, now=datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    assert "Tuesday, December 1, 2026, 7:00 PM" in prompt
