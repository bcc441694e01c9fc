"""The staff console in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.models import Message
from tests.admin.builders import PASSWORD, booked_tool_call, staff_user
from tests.factories import ConversationFactory, MessageFactory, OrganizationFactory

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = "/tmp/admin_transcript.png"  # noqa: S108 -- for a person to look at, not secret
HOSTILE = "<script>window.__pwned = true</script>"


def _clinic_with_a_booking():
    clinic = OrganizationFactory.create(name="Barton Dental", timezone="America/New_York")
    staff_user(clinic, "front-desk")
    sms = ConversationFactory.create(
        organization=clinic,
        channel="sms",
        from_number="+16195550123",
        patient_name="Pat Smith",
        needs_attention=True,
        attention_reason="Asked about the new-patient form",
        start_timestamp=datetime(2026, 11, 30, 14, 59, tzinfo=UTC),
        message_count=3,
        last_message_preview="You're booked: Tue Dec 1 at 10:00 AM",
        last_message_at=datetime(2026, 11, 30, 15, 1, tzinfo=UTC),
    )
    asked = MessageFactory.create(
        conversation=sms,
        content=f"Hi, can I get a cleaning? {HOSTILE}",
        timestamp=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
    )
    booked_tool_call(
        conversation=sms, message=asked, at=datetime(2026, 11, 30, 15, 0, 30, tzinfo=UTC)
    )
    MessageFactory.create(
        conversation=sms,
        role=Message.Role.ASSISTANT,
        content="You're booked: Cleaning with Dr. Pearl, Tue Dec 1 at 10:00 AM. See you then!",
        timestamp=datetime(2026, 11, 30, 15, 1, tzinfo=UTC),
    )
    MessageFactory.create(
        conversation=sms,
        role=Message.Role.STAFF,
        content="Thanks Pat, we also sent the new-patient form by email.",
        timestamp=datetime(2026, 11, 30, 15, 20, tzinfo=UTC),
    )
    ConversationFactory.create(organization=clinic, channel="voice", patient_name="Calling Carl")
    return sms


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_follow_an_sms_conversation_in_chromium(live_server) -> None:
    from playwright.sync_api import Dialog, expect, sync_playwright

    _clinic_with_a_booking()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            dialogs: list[str] = []

            def refuse(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", refuse)
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "front-desk")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.locator("a[href='/admin/conversations/conversation/']").first.click()
            expect(page.locator("#result_list")).to_contain_text("Calling Carl")

            page.locator("#changelist-filter").get_by_role("link", name="SMS").click()
            expect(page.locator("#result_list")).not_to_contain_text("Calling Carl")
            page.locator("#result_list").get_by_role("link", name="Pat Smith").first.click()

            transcript = page.locator(".lexi-transcript")
            expect(transcript).to_contain_text("Booked Cleaning with Dr. Pearl — Tue 1 Dec, 10:00")
            expect(transcript.locator(".lexi-user .lexi-bubble")).to_contain_text(HOSTILE)
            expect(transcript.locator(".lexi-assistant .lexi-bubble")).to_contain_text(
                "See you then"
            )
            assert page.evaluate("window.__pwned === undefined")
            assert dialogs == []
            page.locator(".lexi-action summary").first.click()
            expect(page.locator(".lexi-action pre").first).to_contain_text("slot-1")
            page.screenshot(path=SCREENSHOT, full_page=True)
        finally:
            browser.close()
