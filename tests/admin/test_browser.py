"""The staff console in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from conversations.models import Message
from conversations.services import message_log
from frontdesk.twilio import SIGNATURE_HEADER, signature_compute
from sms.sending import locmem
from sms.twilio import twiml_messages
from tenants.scoping import tenant_scope
from tests.admin.builders import PASSWORD, booked_tool_call, staff_user
from tests.factories import (
    ConversationFactory,
    MessageFactory,
    OrganizationFactory,
    PhoneNumberFactory,
)
from tests.sms.conftest import CLINIC_A_NUMBER, PATIENT
from tests.twilio_helpers import (
    FORM_CONTENT_TYPE,
    TEST_TOKEN,
    WEBHOOK_PATH,
    twilio_payload,
)

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


# For a person to look at (the README's are made with LEXI_SCREENSHOT_DIR=docs).
SCREENSHOTS = os.environ.get("LEXI_SCREENSHOT_DIR", "/tmp")  # noqa: S108 -- not secret


def _patient_texts(page: Any, base_url: str, body: str) -> list[str]:
    """The patient texts the clinic: Twilio's signed webhook, over HTTP; Lexi's TwiML replies."""
    params = twilio_payload(Body=body)
    url = base_url + WEBHOOK_PATH
    response = page.request.post(
        url,
        data=urlencode(params),
        headers={
            SIGNATURE_HEADER: signature_compute(url=url, params=params, token=TEST_TOKEN),
            "Content-Type": FORM_CONTENT_TYPE,
        },
    )
    assert response.status == 200
    return twiml_messages(response.text())


def _flagged_clinic() -> None:
    clinic = OrganizationFactory.create(name="Barton Dental", timezone="America/New_York")
    PhoneNumberFactory.create(organization=clinic, number=CLINIC_A_NUMBER)
    staff_user(clinic, "front-desk")
    conversation = ConversationFactory.create(
        organization=clinic,
        from_number=PATIENT,
        to_number=CLINIC_A_NUMBER,
        session_id="sms_16195551234_18504036622",
        patient_name="Pat Smith",
        needs_attention=True,
        attention_reason="Patient asked for a person",
        waiting_since=timezone.now() - timedelta(minutes=12),
    )
    with tenant_scope(clinic):
        message_log(conversation=conversation, role="user", content="Can a person call me back?")
        message_log(
            conversation=conversation,
            role="assistant",
            content="Sure. I've asked our team to get back to you shortly.",
        )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_take_over_a_flagged_conversation_and_hand_it_back_in_chromium(
    live_server, settings
) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_ACCOUNT_SID = TEST_TOKEN, ""
    settings.PUBLIC_BASE_URL, settings.LEXI_REPLY_MODE = "", "twiml"
    _flagged_clinic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            # 1. Staff log in and land on the inbox.
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "front-desk")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            inbox = page.locator(".lexi-inbox")
            expect(inbox).to_contain_text("Patient asked for a person")
            expect(inbox).to_contain_text("12 min")
            page.screenshot(path=f"{SCREENSHOTS}/console-inbox.png")

            # 2. Open the flagged conversation and reply (a quick reply would fill the box).
            inbox.get_by_role("link", name="Pat Smith").click()
            box = page.locator("textarea[name=body]")
            box.fill("Hi Pat, this is Dana from the front desk. I'll call you at 3pm.")
            expect(page.locator("#lexi-reply-count")).to_contain_text("1 segment (GSM-7)")
            page.get_by_role("button", name="Send text").click()

            # 3. The reply is in the transcript, with its state; Lexi is paused.
            staff_row = page.locator(".lexi-row.lexi-staff").last
            expect(staff_row).to_contain_text("I'll call you at 3pm")
            expect(staff_row.locator(".lexi-delivery")).to_have_text("Sent")
            expect(page.locator(".lexi-reply")).to_contain_text("Waiting on staff")
            [sent] = locmem.outbox
            assert (sent.from_number, sent.to_number) == (CLINIC_A_NUMBER, PATIENT)
            page.screenshot(path=f"{SCREENSHOTS}/console-takeover.png", full_page=True)

            # 4. The patient's next text is stored and shown, and Lexi does not answer it.
            assert _patient_texts(page, live_server.url, "Great, thanks!") == []
            page.reload()
            expect(page.locator(".lexi-row.lexi-user").last).to_contain_text("Great, thanks!")

            # 5. Hand back to Lexi: the next text is answered.
            page.get_by_role("button", name="Hand back to Lexi").click()
            expect(page.locator(".lexi-reply")).to_contain_text("Lexi answers this conversation")
            assert _patient_texts(page, live_server.url, "What are your hours?") != []
            page.reload()
            expect(page.locator(".lexi-row.lexi-assistant").last).not_to_contain_text(
                "get back to you shortly"
            )
        finally:
            browser.close()
