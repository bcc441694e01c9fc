"""Two clinics full of canary strings, and staff users to look at them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import Permission

from booking.models import Appointment, AppointmentType, Closure, Patient, Provider, ScheduleBlock
from conversations.models import Conversation, Message, QuickReply, ToolCall
from reminders.models import Reminder, ReminderPolicy
from sms.models import SmsOptOut, UnroutedMessage
from tenants.models import Membership, Organization, PhoneNumber
from tenants.scoping import tenant_scope
from tests.factories import (
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
    OrganizationFactory,
    ToolCallFactory,
    UserFactory,
)

STAFF_APPS = ("conversations", "booking", "tenants", "sms", "reminders")
PASSWORD = "correct horse battery staple"
TOKEN_CANARY = "TOKENSECRET"
PLATFORM_CANARY = "CANARYP"


BOOKED_CLEANING = {
    "appointment_id": "7",
    "appointment_type": "Cleaning",
    "provider": "Dr. Pearl",
    "start": "2026-12-01T10:00:00-05:00",
    "start_text": "Tue Dec 1 at 10:00 AM",
}


def booked_tool_call(*, conversation: Conversation, message: Message, at: Any) -> ToolCall:
    """Lexi's booking of a Cleaning with Dr. Pearl, as book_appointment logs it."""
    return ToolCallFactory.create(
        conversation=conversation,
        message=message,
        name="book_appointment",
        arguments={"slot_id": "slot-1", "patient_id": "1"},
        result=dict(BOOKED_CLEANING),
        created_at=at,
    )


def staff_user(organization: Organization, username: str) -> Any:
    """A staff user with every permission of the clinic apps, member of `organization`."""
    user = UserFactory.create(username=username, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
    MembershipFactory.create(organization=organization, user=user)
    return user


@dataclass
class World:
    """One clinic's rows, each text field carrying `canary`."""

    organization: Organization
    canary: str
    staff: Any
    numbers: list[str]
    objects: dict[type, Any] = field(default_factory=dict)

    @property
    def secrets(self) -> list[str]:
        """What nobody else may ever see of this clinic."""
        return [self.canary, *self.numbers]


def canary_world(*, tag: str, digit: str) -> World:
    """A clinic whose every text field says CANARY<tag>; phone numbers end in `digit`s."""
    canary = f"CANARY{tag}"
    clinic_number = f"+1850555{digit * 4}"
    patient_number = f"+1619555{digit * 4}"
    org = OrganizationFactory.create(
        name=f"Clinic {canary}",
        slug=f"clinic-{canary.lower()}",
        phone=f"+1202555{digit * 4}",
        address=f"1 {canary} Street",
        website=f"https://{canary.lower()}.example",
        office_hours=f"{canary} hours",
        services=f"{canary} services",
        policies=f"{canary} policies",
        lexi_model=f"{canary}-model",
        lexi_instructions=f"{canary} instructions",
        twilio_account_sid=f"AC{canary}",
        twilio_auth_token=f"{TOKEN_CANARY}{tag}",
    )
    staff = staff_user(org, f"staff-{canary.lower()}")
    world = World(
        organization=org,
        canary=canary,
        staff=staff,
        numbers=[clinic_number, patient_number, f"+1202555{digit * 4}"],
    )
    with tenant_scope(org):
        world.objects[PhoneNumber] = PhoneNumber.objects.create(
            organization=org,
            number=clinic_number,
            friendly_name=f"{canary} line",
            messaging_service_sid=f"MG{canary}",
        )
        world.objects[Membership] = Membership.objects.get(organization=org, user=staff)
    conversation = ConversationFactory.create(
        organization=org,
        from_number=patient_number,
        to_number=clinic_number,
        session_id=f"sms_{canary}",
        patient_name=f"{canary} Patient",
        attention_reason=f"{canary} reason",
        needs_attention=True,
        last_message_preview=f"{canary} preview",
        last_message_at=datetime.now(UTC),
        message_count=1,
        metadata={"note": canary},
        lexi_state={"state": canary},
    )
    message = MessageFactory.create(
        conversation=conversation,
        content=f"{canary} message",
        metadata={"note": canary},
        provider_message_id=f"SM{canary}",
    )
    world.objects[Conversation] = conversation
    world.objects[Message] = message
    world.objects[ToolCall] = ToolCallFactory.create(
        conversation=conversation,
        message=message,
        name="book_appointment",
        call_id=f"call_{canary}",
        arguments={"slot_id": canary},
        result={"error": "slot_taken", "message": f"{canary} result"},
        error=f"{canary}_error",
        engine="offline",
    )
    with tenant_scope(org):
        provider = Provider.objects.create(organization=org, name=f"Dr. {canary}")
        kind = AppointmentType.objects.create(
            organization=org, name=f"{canary} visit", duration_minutes=30, keywords=canary
        )
        patient = Patient.objects.create(
            organization=org,
            first_name=f"{canary}first",
            last_name=f"{canary}last",
            phone=patient_number,
            date_of_birth=date(1990, 1, 1),
        )
        start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        world.objects[Provider] = provider
        world.objects[AppointmentType] = kind
        world.objects[Patient] = patient
        world.objects[ScheduleBlock] = ScheduleBlock.objects.create(
            organization=org, provider=provider, weekday=0, start_time=time(8), end_time=time(12)
        )
        world.objects[Closure] = Closure.objects.create(
            organization=org, date=date(2026, 12, 25), provider=provider, reason=f"{canary} day"
        )
        world.objects[Appointment] = Appointment.objects.create(
            organization=org,
            patient=patient,
            provider=provider,
            appointment_type=kind,
            start=start,
            end=start + timedelta(minutes=30),
            conversation=conversation,
            notes=f"{canary} notes",
            cancellation_reason=f"{canary} cancel",
        )
        world.objects[QuickReply] = QuickReply.objects.create(
            organization=org, title=f"{canary} quick", body=f"{canary} quick reply text"
        )
        world.objects[SmsOptOut] = SmsOptOut.objects.create(
            organization=org, phone=patient_number, keyword=canary
        )
        world.objects[ReminderPolicy] = ReminderPolicy.objects.create(
            organization=org, template=f"{canary} reminder {{first_name}}"
        )
        world.objects[Reminder] = Reminder.objects.create(
            organization=org,
            appointment=world.objects[Appointment],
            lead_minutes=120,
            appointment_start=start,
            due_at=start - timedelta(hours=2),
            status=Reminder.Status.SKIPPED,
            skip_reason=f"{canary} skipped",
        )
    world.objects[Organization] = org
    return world


def unrouted_message() -> UnroutedMessage:
    return UnroutedMessage.objects.create(
        message_sid=f"SM{PLATFORM_CANARY}",
        from_number="+14155550999",
        to_number="+14155550998",
        body=f"{PLATFORM_CANARY} body",
    )
