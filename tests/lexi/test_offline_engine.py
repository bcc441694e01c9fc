"""The offline engine, driven text by text as the SMS channel drives it.

A table of scripted conversations (varied wording, typos, family phones, new patients) asserting
the appointments, registrations and cancellations they leave in the database, and what every
reply must be: one SMS screen, no "reply CANCEL" (Twilio's opt-out word), confirmations that
name the day, time and provider. Time is frozen on a Monday so slot dates are fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import time_machine

from booking.models import Appointment
from conversations.models import Conversation, Message, ToolCall
from lexi.context import TurnContext
from lexi.engines.offline import sms_fit
from tenants.scoping import tenant_scope
from tests.factories import ConversationFactory
from tests.lexi.conftest import lexi_says, patient_says
from tests.lexi.edge import OfflineEngine, run_turn
from tests.lexi.offline_cases import (
    NOW,
    PHONE,
    Existing,
    cancelled_count,
    converse,
    existing_create,
    offline_office_setup,
    patients_on,
    scheduled,
)

pytestmark = pytest.mark.django_db

ANA = Existing(patients=[("Ana", "Lopez")])
ANA_WITH_CLEANING = Existing(
    patients=[("Ana", "Lopez")],
    appointments=[("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl")],
)
FAMILY = Existing(patients=[("Ana", "Lopez"), ("Leo", "Lopez")])
CANCEL_INSTRUCTION = re.compile(
    r"\b(reply|text|send|respond)( with)?( the word)?\s+[\"'“]?cancel[\"'”]?\s*([.!,)]|$)", re.I
)


@dataclass
class Case:
    name: str
    texts: list[str]
    existing: Existing = field(default_factory=Existing)
    # (patient, type, local start, provider) of every scheduled visit on the phone afterwards
    booked: list[tuple[str, str, str, str]] = field(default_factory=list)
    cancelled: int = 0
    registered: list[tuple[str, str, str]] | None = None
    flagged: bool = False
    # (turn index, words the reply must contain)
    says: list[tuple[int, str]] = field(default_factory=list)


CASES = [
    Case(
        "book_cleaning_tomorrow_morning_second_option",
        ["Hi, I'd like to book a cleaning", "tomorrow morning", "the second one", "yes"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-01 09:00", "Dr. Molar")],
        says=[(0, "Welcome to Alpha Dental"), (3, "Tuesday, Dec 1 at 9:00 AM with Dr. Molar")],
    ),
    Case(
        "new_patient_registers_then_books_next_tuesday_afternoon",
        [
            "hello",
            "can I get a checkup next Tuesday afternoon?",
            "Jane Smith",
            "3/14/1985",
            "2pm works",
            "yep",
        ],
        booked=[("Jane", "Checkup", "2026-12-08 14:00", "Dr. Molar")],
        registered=[("Jane", "Smith", "1985-03-14")],
        says=[(0, "How can I help you today?"), (1, "first and last name"), (2, "date of birth")],
    ),
    Case(
        "typos_cleanig_tommorow_option_3",
        ["i need a cleanig tommorow", "option 3", "sure"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-01 10:00", "Dr. Molar")],
    ),
    Case(
        "exact_day_and_time_dec_3_at_10",
        ["Can I book a checkup Dec 3 at 10?", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-03 10:00", "Dr. Molar")],
        says=[(0, "Thu Dec 3 at 10:00 AM"), (1, "Thursday, Dec 3 at 10:00 AM with Dr. Molar")],
    ),
    Case(
        "slash_date_and_pm_time",
        ["checkup 12/3 3pm", "ok"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-03 15:00", "Dr. Molar")],
    ),
    Case(
        "consultation_friday_first_option",
        ["I'd like to schedule a consultation", "Friday", "the first", "sounds good"],
        ANA,
        booked=[("Ana", "Consultation", "2026-12-04 08:00", "Dr. Molar")],
    ),
    Case(
        "type_asked_separately_this_week_afternoons_last_option",
        ["book an apointment", "cleaning", "this week, afternoons", "the last one", "y"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-11-30 15:00", "Dr. Molar")],
        says=[(0, "What kind of visit")],
    ),
    Case(
        "openings_next_week_then_bare_hour",
        ["Do you have any openings next week for a cleaning?", "9 works", "yes please"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-07 09:00", "Dr. Molar")],
    ),
    Case(
        "family_phone_asks_which_patient_by_name",
        ["Hi can I book a checkup for my son", "Leo", "tomorrow afternoon", "2", "yes"],
        FAMILY,
        booked=[("Leo", "Checkup", "2026-12-01 14:00", "Dr. Molar")],
        says=[(0, "Ana or Leo"), (1, "Thanks, Leo")],
    ),
    Case(
        "a_parent_books_a_son_not_yet_registered_then_his_brother_right_after",
        [
            "can I book my son Max for a cleaning tomorrow morning",
            "5/6/2015",
            "the first one",
            "yes",
            "and his brother Theo too, right after",
            "7/8/2017",
            "the first one",
            "yes",
        ],
        ANA,
        booked=[
            ("Max", "Cleaning", "2026-12-01 08:00", "Dr. Molar"),
            ("Theo", "Cleaning", "2026-12-01 09:00", "Dr. Molar"),
        ],
        registered=[("Max", "Lopez", "2015-05-06"), ("Theo", "Lopez", "2017-07-08")],
        says=[(0, "I'll add Max Lopez"), (3, "You're booked for Max!"), (4, "Theo")],
    ),
    Case(
        "its_for_my_daughter_asks_her_name_and_registers_her",
        [
            "I need a cleaning tomorrow morning, it's for my daughter",
            "Mia Lopez",
            "2/3/2016",
            "the first one",
            "yes",
        ],
        ANA,
        booked=[("Mia", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
        registered=[("Mia", "Lopez", "2016-02-03")],
        says=[(0, "your daughter's first and last name")],
    ),
    Case(
        "a_family_member_named_on_the_phone_is_booked_directly",
        ["book a cleaning for my son Leo tomorrow morning", "the first one", "yes"],
        FAMILY,
        booked=[("Leo", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
    ),
    Case(
        "family_phone_picks_the_first_listed",
        ["book a cleaning", "the first one", "Dec 2 at 1pm", "yes"],
        FAMILY,
        booked=[("Ana", "Cleaning", "2026-12-02 13:00", "Dr. Molar")],
    ),
    Case(
        "a_change_of_mind_about_the_kind_of_visit_keeps_going",
        [
            "I want to book a cleaning",
            "actually make it a checkup instead",
            "friday morning",
            "1",
            "yes",
        ],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-04 08:00", "Dr. Molar")],
        says=[(1, "Sure, a Checkup then.")],
    ),
    Case(
        "a_toothache_asking_if_someone_can_see_me_is_urgent_not_a_hand_off_request",
        ["my tooth is killing me, can someone see me today??", "yes"],
        ANA,
        booked=[("Ana", "Emergency exam", "2026-11-30 10:00", "Dr. Molar")],
        flagged=True,
        says=[(0, "Earliest emergency visit")],
    ),
    Case(
        "any_day_but_monday_is_never_offered_a_monday",
        ["I need a cleaning, any day but Monday", "1", "yes"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
    ),
    Case(
        "a_time_window_ruled_out_narrows_the_offers",
        ["checkup tomorrow afternoon but not between 1 and 3", "1", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-01 15:00", "Dr. Molar")],
    ),
    Case(
        "a_change_of_mind_about_who_the_visit_is_for_keeps_the_rest",
        [
            "I'd like a cleaning tomorrow morning",
            "actually it's for my son Max",
            "5/6/2015",
            "1",
            "yes",
        ],
        ANA,
        booked=[("Max", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
        registered=[("Max", "Lopez", "2015-05-06")],
        says=[(1, "I'll add Max Lopez")],
    ),
    Case(
        "an_insurance_question_and_a_booking_get_both",
        ["do you take Delta? if so book me a cleaning", "tomorrow morning", "the first one", "yes"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
        says=[(0, "insurance coverage"), (0, "What day and time")],
    ),
    Case(
        "a_cancel_and_a_question_get_both",
        ["cancel my appointment please, and what's your address?", "yes"],
        ANA_WITH_CLEANING,
        cancelled=1,
        says=[(0, "We're at"), (0, "Cancel your Cleaning"), (1, "is cancelled")],
    ),
    Case(
        "a_reschedule_and_a_question_get_both",
        [
            "can I move my appointment? also what are your hours?",
            "Thursday afternoon",
            "the first one",
            "yes",
        ],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-03 13:00", "Dr. Molar")],
        says=[(0, "Our hours"), (0, "Your Cleaning is")],
    ),
    Case(
        "anything_sooner_moves_the_visit_the_patient_has",
        ["anything sooner?", "tomorrow morning", "the first one", "yes"],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
        says=[(0, "Your Cleaning is")],
    ),
    Case(
        "cant_make_the_day_anymore_moves_the_visit_not_cancels_it",
        ["I can't make Wednesday anymore", "Thursday afternoon", "the first one", "yes"],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-03 13:00", "Dr. Molar")],
    ),
    Case(
        "a_second_cleaning_within_two_weeks_is_asked_about_then_moved",
        [
            "I'd like to book a cleaning",
            "tomorrow morning",
            "the first one",
            "yes",
            "move it",
            "yes",
        ],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-01 08:00", "Dr. Molar")],
        says=[(3, "Do you want to move your Cleaning on"), (4, "move your Cleaning to")],
    ),
    Case(
        "a_second_cleaning_within_two_weeks_is_booked_when_the_patient_wants_both",
        ["I'd like to book a cleaning", "tomorrow morning", "the first one", "yes", "another one"],
        ANA_WITH_CLEANING,
        booked=[
            ("Ana", "Cleaning", "2026-12-01 08:00", "Dr. Molar"),
            ("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl"),
        ],
        says=[(3, "or book another visit?"), (4, "You're booked!")],
    ),
    Case(
        "new_patient_with_accents_and_a_particle_keeps_the_name_as_written",
        [
            "hi, I'd like a cleaning next Wednesday morning",
            "María José de la Cruz",
            "3/14/1985",
            "the first",
            "yes",
        ],
        booked=[("María", "Cleaning", "2026-12-09 08:00", "Dr. Molar")],
        registered=[("María", "José de la Cruz", "1985-03-14")],
    ),
    Case(
        "new_patient_whose_name_sounds_like_words_is_not_corrected",
        [
            "can I book a checkup next Wednesday morning",
            "Hope Paine",
            "May 3 1990",
            "the first",
            "yes",
        ],
        booked=[("Hope", "Checkup", "2026-12-09 08:00", "Dr. Molar")],
        registered=[("Hope", "Paine", "1990-05-03")],
    ),
    Case(
        "new_patient_gives_a_first_name_then_the_last_when_asked",
        [
            "I need a cleaning next Wednesday morning",
            "Will",
            "Sunday-Brooks",
            "7/4/1990",
            "the first",
            "yes",
        ],
        booked=[("Will", "Cleaning", "2026-12-09 08:00", "Dr. Molar")],
        registered=[("Will", "Sunday-Brooks", "1990-07-04")],
    ),
    Case(
        "new_patient_gives_name_and_birthdate_in_one_text",
        [
            "I'm a new patient, I'd like a cleaning",
            "My name is Tom O'Neil, born 7/4/1990",
            "next Wednesday morning",
            "the first",
            "perfect",
        ],
        booked=[("Tom", "Cleaning", "2026-12-09 08:00", "Dr. Molar")],
        registered=[("Tom", "O'Neil", "1990-07-04")],
    ),
    Case(
        "new_patient_first_last_and_written_birthdate_one_per_text",
        [
            "appointment for a checkup please",
            "Maria",
            "Garcia",
            "March 14 1985",
            "today",
            "the first",
            "yes",
        ],
        booked=[("Maria", "Checkup", "2026-11-30 10:00", "Dr. Molar")],
        registered=[("Maria", "Garcia", "1985-03-14")],
        says=[(1, "last name")],
    ),
    Case(
        "new_patient_iso_birthdate_exam_thursday_at_11",
        ["new patient, need an exam", "Sam Lee", "1985-03-14", "Thursday at 11", "yes"],
        booked=[("Sam", "Checkup", "2026-12-03 11:00", "Dr. Molar")],
        registered=[("Sam", "Lee", "1985-03-14")],
    ),
    Case(
        "cancel_with_typos_confirmed",
        ["I need to cancell my apointment", "yes"],
        ANA_WITH_CLEANING,
        cancelled=1,
        says=[(0, "Reply yes to cancel"), (1, "cancelled")],
    ),
    Case(
        "cancel_declined_keeps_the_visit",
        ["cancel my appointment please", "no, keep it"],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl")],
        says=[(1, "kept")],
    ),
    Case(
        "cant_make_it_means_cancel",
        ["I can't make it on Wednesday", "yep"],
        ANA_WITH_CLEANING,
        cancelled=1,
    ),
    Case(
        "cancel_then_book_a_new_time",
        ["please cancel my cleaning", "yes", "yes", "Friday afternoon", "the 2nd", "ok"],
        ANA_WITH_CLEANING,
        cancelled=1,
        booked=[("Ana", "Cleaning", "2026-12-04 14:00", "Dr. Molar")],
    ),
    Case(
        "reschedule_abbreviated_then_later_times",
        ["can we resched", "Friday", "no, later", "the first", "ok"],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-04 10:30", "Dr. Molar")],
        says=[(0, "Wed Dec 2 at 10:00 AM"), (4, "Friday, Dec 4 at 10:30 AM with Dr. Molar")],
    ),
    Case(
        "reschedule_to_a_named_day_and_time_in_one_text",
        ["I need to move my appointment to Thursday at 2pm", "yes"],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-03 14:00", "Dr. Molar")],
    ),
    Case(
        "reschedule_picks_one_of_two_visits_by_type",
        ["I want to reschedule", "the checkup", "next Friday morning", "10am", "yes"],
        Existing(
            patients=[("Ana", "Lopez")],
            appointments=[
                ("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl"),
                ("Ana", "Checkup", "2026-12-09 09:00", "Dr. Pearl"),
            ],
        ),
        booked=[
            ("Ana", "Checkup", "2026-12-11 10:00", "Dr. Molar"),
            ("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl"),
        ],
        says=[(0, "Which appointment?")],
    ),
    Case(
        "reschedule_without_appointments_offers_booking_declined",
        ["need to reschedule", "no thanks"],
        ANA,
        says=[(0, "don't see any upcoming")],
    ),
    Case(
        "knocked_out_tooth_books_the_earliest_emergency_visit",
        ["my tooth got knocked out!!", "yes"],
        ANA,
        booked=[("Ana", "Emergency exam", "2026-11-30 10:00", "Dr. Molar")],
        flagged=True,
        says=[(0, "911"), (0, "milk"), (1, "Monday, Nov 30 at 10:00 AM with Dr. Molar")],
    ),
    Case(
        "swelling_new_patient_registers_then_books_emergency",
        ["my face is really swollen", "yes", "Kim Park", "2/2/1992"],
        booked=[("Kim", "Emergency exam", "2026-11-30 10:00", "Dr. Molar")],
        registered=[("Kim", "Park", "1992-02-02")],
        flagged=True,
        says=[(0, "911")],
    ),
    Case(
        "severe_pain_declined_still_flags_staff",
        ["severe pain in my tooth", "no"],
        ANA,
        flagged=True,
    ),
    Case(
        "talk_to_a_person_hands_off",
        ["can I talk to a real person?"],
        ANA,
        flagged=True,
        says=[(0, "our team")],
    ),
    Case("office_hours", ["what are your hours?"], says=[(0, "Mon-Fri 8am-5pm")]),
    Case(
        "address_and_phone_in_one_question",
        ["where are you located and what's your phone number?"],
        says=[(0, "1 Main St"), (0, "+18505550100")],
    ),
    Case(
        "insurance_is_not_quoted",
        ["do you take delta insurance?"],
        says=[(0, "can't quote")],
    ),
    Case(
        "off_topic_first_then_books",
        ["what's the weather like?", "ok I want a cleaning", "tomorrow at 9", "yes"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-01 09:00", "Dr. Molar")],
        says=[(0, "How can I help you today?")],
    ),
    Case(
        "info_question_mid_booking_then_continues",
        ["book a checkup", "what's your address?", "tomorrow", "the third", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-01 10:00", "Dr. Molar")],
        says=[(1, "1 Main St"), (1, "What day and time")],
    ),
    Case(
        "never_mind_stops_the_booking",
        ["I'd like to book a cleaning", "tomorrow", "never mind"],
        ANA,
    ),
    Case(
        "changes_choice_at_confirmation",
        ["book a checkup on Wednesday", "the first", "actually the second", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-02 09:00", "Dr. Molar")],
    ),
    Case(
        "something_later_then_option_by_number",
        ["checkup tomorrow morning", "something later", "2", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-01 11:00", "Dr. Molar")],
        says=[(1, "10:30 AM"), (1, "11:30 AM")],
    ),
    Case(
        "nope_then_another_day",
        ["I want a cleaning", "Monday", "nope", "Tuesday afternoon", "option 1", "yes"],
        ANA,
        booked=[("Ana", "Cleaning", "2026-12-01 13:00", "Dr. Molar")],
        says=[(1, "Mon Dec 7"), (2, "What day or time")],
    ),
    Case(
        "asks_when_the_appointment_is",
        ["when is my appointment?"],
        ANA_WITH_CLEANING,
        booked=[("Ana", "Cleaning", "2026-12-02 10:00", "Dr. Pearl")],
        says=[(0, "Wed Dec 2 at 10:00 AM")],
    ),
    Case(
        "diagnosis_refused_then_books_a_checkup",
        ["do I have a cavity?", "yes", "checkup", "tomorrow", "1", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-12-01 08:00", "Dr. Molar")],
        says=[(0, "can't give a diagnosis")],
    ),
    Case(
        "asap_takes_the_earliest",
        ["need a checkup asap", "the first", "yes"],
        ANA,
        booked=[("Ana", "Checkup", "2026-11-30 10:00", "Dr. Molar")],
    ),
]


@pytest.fixture
def frozen_office(org_a, settings):
    settings.BOOKING_MIN_NOTICE_MINUTES = 120
    settings.BOOKING_SLOT_MINUTES = 30
    with time_machine.travel(NOW, tick=False):
        yield offline_office_setup(org_a)


def test_the_table_has_at_least_thirty_conversations():
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_scripted_conversation(case: Case, frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, case.existing)
    patients_before = patients_on(organization)
    visits_before = scheduled(organization)

    conversation, replies = converse(organization, case.texts)

    texts = [reply.text for reply in replies]
    assert scheduled(organization) == sorted(case.booked), texts
    assert cancelled_count(organization) == case.cancelled, texts
    expected_patients = patients_before + (case.registered or [])
    assert patients_on(organization) == sorted(expected_patients), texts
    with tenant_scope(organization):
        conversation.refresh_from_db()
    assert conversation.needs_attention is case.flagged, texts
    assert any(reply.flagged for reply in replies) is case.flagged
    for index, words in case.says:
        assert words in texts[index], (index, texts[index])
    for reply in replies:
        assert reply.engine == "offline"
        assert 0 < len(reply.text) <= 320, reply.text
        assert not CANCEL_INSTRUCTION.search(reply.text), reply.text
        assert "CANCEL" not in reply.text
    assert texts[0].startswith("Hi! Welcome to Alpha Dental. This is Lexi.")
    assert not any("Welcome to" in text for text in texts[1:])
    if set(scheduled(organization)) - set(visits_before):
        confirmation = texts[-1]
        assert "Dr. " in confirmation
        assert re.search(r"\d{1,2}:\d{2} (AM|PM)", confirmation)
        assert re.search(r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \w{3} \d{1,2}", confirmation)


def _tool_call_names(organization) -> list[str]:
    with tenant_scope(organization):
        return list(ToolCall.objects.order_by("id").values_list("name", flat=True))


def test_every_action_is_a_logged_tool_call_of_the_offline_engine(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    converse(organization, ["book a cleaning tomorrow morning", "the first", "yes"])
    with tenant_scope(organization):
        calls = list(ToolCall.objects.order_by("id"))
    assert [c.name for c in calls] == [
        "get_office_info",
        "find_patient",
        "find_slots",
        "book_appointment",
    ]
    assert {c.engine for c in calls} == {"offline"}
    assert all(c.message_id is not None and not c.error for c in calls)
    booked = calls[-1]
    assert booked.arguments["slot_id"] == calls[2].result["slots"][0]["slot_id"]


def test_dialogue_state_lives_in_the_database_between_texts(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    conversation, _ = converse(organization, ["I'd like a cleaning"])
    with tenant_scope(organization):
        stored = Conversation.objects.get(pk=conversation.pk)
    assert stored.lexi_state["flow"] == "book"
    assert stored.lexi_state["awaiting"] == "when"
    assert stored.lexi_state["appointment_type"] == "Cleaning"
    assert stored.patient_name == "Ana Lopez"

    # A stale instance and a brand-new engine pick up where the database says we are.
    stale = ConversationFactory.build(pk=conversation.pk, organization=organization)
    stale.lexi_state = {}
    message = patient_says(conversation, "tomorrow at 9")
    with tenant_scope(organization):
        history = list(Message.objects.filter(conversation=conversation).exclude(pk=message.pk))
    reply = OfflineEngine().reply(
        context=TurnContext(
            organization=organization,
            conversation=stale,
            message=message,
            channel="sms",
            sender_phone=PHONE,
            now=NOW,
        ),
        history=history,
    )
    assert "Tue Dec 1 at 9:00 AM" in reply.text
    assert "Welcome" not in reply.text


def test_a_slot_taken_before_confirmation_is_never_double_booked(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    conversation, replies = converse(organization, ["checkup tomorrow morning", "the first"])
    assert "Tue Dec 1 at 8:00 AM with Dr. Molar" in replies[-1].text
    # Someone else takes 8:00 with Dr. Molar before the patient says yes.
    existing_create(
        frozen_office,
        Existing(
            patients=[("Zoe", "Other")],
            appointments=[("Zoe", "Checkup", "2026-12-01 08:00", "Dr. Molar")],
        ),
        phone="+16195550999",
    )
    message = patient_says(conversation, "yes")
    with tenant_scope(organization):
        history = list(Message.objects.filter(conversation=conversation).exclude(pk=message.pk))
    reply = OfflineEngine().reply(
        context=TurnContext(
            organization=organization,
            conversation=conversation,
            message=message,
            channel="sms",
            sender_phone=PHONE,
            now=NOW,
        ),
        history=history,
    )
    assert "just taken" in reply.text
    assert "I have:" in reply.text
    assert scheduled(organization) == []
    with tenant_scope(organization):
        at_eight = Appointment.objects.filter(
            provider=frozen_office.providers["Dr. Molar"], status=Appointment.Status.SCHEDULED
        ).count()
    assert at_eight == 1


def test_a_turn_for_one_organization_never_touches_another(frozen_office, org_b):
    """Org B has the same phone with a patient and a visit: org A's turns see none of it."""
    organization = frozen_office.organization
    office_b = offline_office_setup(org_b)
    existing_create(office_b, ANA_WITH_CLEANING)
    b_before = scheduled(org_b)

    _, cancel_replies = converse(organization, ["cancel my appointment", "yes"])
    assert "don't see any upcoming" in cancel_replies[0].text
    converse(
        organization,
        ["book a cleaning tomorrow at 9", "yes", "Ana Lopez", "3/14/1985", "yes"],
    )

    assert scheduled(org_b) == b_before
    assert cancelled_count(org_b) == 0
    assert patients_on(org_b) == [("Ana", "Lopez", "")]
    # A registered its own Ana: B's patient on the same phone was invisible to it.
    assert patients_on(organization) == [("Ana", "Lopez", "1985-03-14")]
    assert scheduled(organization) == [("Ana", "Cleaning", "2026-12-01 09:00", "Dr. Molar")]
    with tenant_scope(org_b):
        assert ToolCall.objects.count() == 0
        assert Appointment.objects.filter(conversation__isnull=False).count() == 0


def test_run_turn_uses_the_offline_engine_by_default(frozen_office, settings):
    settings.LEXI_ENGINE = "offline"
    settings.OPENAI_API_KEY = ""
    organization = frozen_office.organization
    existing_create(frozen_office, ANA_WITH_CLEANING)
    conversation = ConversationFactory.create(organization=organization, from_number=PHONE)
    replies = []
    for text in ["hi, can we resched my appt?", "thursday at 3pm", "yes"]:
        message = patient_says(conversation, text)
        reply = run_turn(conversation=conversation, message=message)
        lexi_says(conversation, reply.text)
        replies.append(reply)
    assert [r.engine for r in replies] == ["offline"] * 3
    assert replies[0].text.startswith("Hi! Welcome to Alpha Dental. This is Lexi.")
    assert "Thursday, Dec 3 at 3:00 PM with Dr. Molar" in replies[-1].text
    assert scheduled(organization) == [("Ana", "Cleaning", "2026-12-03 15:00", "Dr. Molar")]
    assert "reschedule_appointment" in _tool_call_names(organization)


def test_run_turn_cancels_by_text_without_the_opt_out_word(frozen_office, settings):
    settings.LEXI_ENGINE = "offline"
    settings.OPENAI_API_KEY = ""
    organization = frozen_office.organization
    existing_create(frozen_office, ANA_WITH_CLEANING)
    conversation = ConversationFactory.create(organization=organization, from_number=PHONE)
    texts = []
    for text in ["I won't be able to make my appointment", "yes please"]:
        message = patient_says(conversation, text)
        reply = run_turn(conversation=conversation, message=message)
        lexi_says(conversation, reply.text)
        texts.append(reply.text)
    assert cancelled_count(organization) == 1
    assert all(not CANCEL_INSTRUCTION.search(t) and "CANCEL" not in t for t in texts)


def test_sms_fit_cuts_at_a_sentence_end():
    long = "First sentence here. " + "x" * 400
    assert sms_fit(long) == "First sentence here."
    assert sms_fit("  short   text ") == "short text"
    assert len(sms_fit("y" * 400)) == 320


def _find_slots_arguments(organization) -> list[dict]:
    with tenant_scope(organization):
        return [
            call.arguments for call in ToolCall.objects.filter(name="find_slots").order_by("id")
        ]


def test_a_requested_hour_is_one_search_from_just_before_it(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    _, replies = converse(organization, ["checkup Thursday at 11"])
    assert "Thu Dec 3 at 11:00 AM with Dr. Molar is open" in replies[0].text
    searches = _find_slots_arguments(organization)
    assert len(searches) == 1
    assert searches[0]["start_date"] == "2026-12-03"
    assert searches[0]["start_time"] == "10:00"


def test_a_taken_hour_offers_the_nearest_times_instead(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    busy = Existing(
        patients=[("Bo", "Chen"), ("Cy", "Chen")],
        appointments=[
            ("Bo", "Checkup", "2026-12-03 11:00", "Dr. Molar"),
            ("Cy", "Checkup", "2026-12-03 11:00", "Dr. Pearl"),
        ],
    )
    existing_create(frozen_office, busy, phone="+16195550999")
    _, replies = converse(organization, ["checkup Thursday at 11"])
    assert "1) Thu Dec 3 at 10:30 AM" in replies[0].text
    assert "11:30 AM" in replies[0].text
    assert "11:00 AM" not in replies[0].text
    assert len(_find_slots_arguments(organization)) == 1


def test_later_than_a_days_last_times_moves_on_to_the_next_day(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    _, replies = converse(
        organization, ["checkup tomorrow afternoon", "something later", "something later"]
    )
    assert "Tue Dec 1 at 3:30 PM" in replies[1].text
    assert "Tue Dec 1 at 4:30 PM" in replies[1].text
    assert "1) Wed Dec 2 at 8:00 AM" in replies[2].text
    later = _find_slots_arguments(organization)[-2:]
    assert [(a.get("start_date"), a.get("start_time")) for a in later] == [
        ("2026-12-01", "16:30"),
        ("2026-12-02", None),
    ]


def test_staff_are_flagged_once_until_they_clear_it(frozen_office):
    from conversations.services import conversation_resolve

    organization = frozen_office.organization
    existing_create(frozen_office, ANA)
    conversation, _ = converse(
        organization, ["my tooth got knocked out!", "now my face is swelling"]
    )
    with tenant_scope(organization):
        handoffs = ToolCall.objects.filter(name="hand_off_to_staff").count()
        conversation.refresh_from_db()
        assert conversation.needs_attention
        conversation_resolve(conversation=conversation)
    assert handoffs == 1

    converse(organization, ["I want to talk to a person"], conversation=conversation)
    with tenant_scope(organization):
        assert ToolCall.objects.filter(name="hand_off_to_staff").count() == 2


def test_asked_about_a_closed_day_lexi_says_so_and_why(frozen_office):
    from datetime import date

    from tests.factories import ClosureFactory

    organization = frozen_office.organization
    ClosureFactory.create(
        organization=organization, date=date(2026, 12, 1), reason="Staff training"
    )

    _, [closed, open_day] = converse(
        organization, ["Are you open tomorrow?", "Are you open on Wednesday?"]
    )

    assert "closed on Tue Dec 1 (Staff training)" in closed.text
    assert "open on Wed Dec 2" in open_day.text
    with tenant_scope(organization):
        asked = ToolCall.objects.filter(name="get_office_info").order_by("id")
        assert [c.arguments.get("date") for c in asked] == ["2026-12-01", "2026-12-02"]


def test_an_office_question_and_a_booking_in_one_text_get_both_answered(frozen_office):
    organization = frozen_office.organization
    existing_create(frozen_office, ANA)

    _, [reply] = converse(organization, ["What are your hours? I'd like to book a cleaning"])

    assert "hours" in reply.text.lower()
    assert "?" in reply.text.split("hours", 1)[1]  # and it asks the next booking question
    with tenant_scope(organization):
        names = list(ToolCall.objects.order_by("id").values_list("name", flat=True))
    assert names[0] == "get_office_info"
    assert "find_patient" in names
    assert len(reply.text) <= 320
