import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from tenants.phone import InvalidPhoneNumber, phone_normalize
from tenants.scoping import TenantModel


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. America/New_York).")


def validate_phone(value: str) -> None:
    try:
        normalized = phone_normalize(value)
    except InvalidPhoneNumber as exc:
        raise ValidationError(f"{value!r} is not a phone number.") from exc
    if normalized != value:
        raise ValidationError(f"Write phone numbers in E.164, e.g. {normalized}.")


class Organization(models.Model):
    """A clinic: the tenant. Its office profile is what Lexi may quote to patients."""

    class Engine(models.TextChoices):
        DEFAULT = "", "Server default"
        OFFLINE = "offline", "Offline (deterministic)"
        OPENAI = "openai", "OpenAI"

    class ReplyMode(models.TextChoices):
        DEFAULT = "", "Server default"
        TWIML = "twiml", "Inline (in the webhook's response)"
        QUEUED = "queued", "Queued (a worker answers and sends by REST)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    is_active = models.BooleanField(default=True)

    phone = models.CharField("office phone", max_length=32, blank=True)
    address = models.CharField(max_length=300, blank=True)
    website = models.URLField(blank=True)
    office_hours = models.TextField(blank=True, help_text="As patients should read it.")
    services = models.TextField(blank=True)
    policies = models.TextField(blank=True)

    lexi_enabled = models.BooleanField(default=True)
    lexi_engine = models.CharField(max_length=16, choices=Engine.choices, blank=True, default="")
    lexi_model = models.CharField(max_length=100, blank=True)
    lexi_instructions = models.TextField(
        blank=True, help_text="Extra instructions for Lexi, added to her system prompt."
    )
    lexi_reply_mode = models.CharField(
        "reply mode",
        max_length=16,
        choices=ReplyMode.choices,
        blank=True,
        default="",
        help_text="Server default: queued when the engine is a model, inline for offline.",
    )

    twilio_account_sid = models.CharField(
        max_length=64, blank=True, help_text="Set for a Twilio subaccount with its own token."
    )
    twilio_auth_token = models.CharField(max_length=64, blank=True)

    # Raised by the database (a trigger, booking migration 0005) whenever the clinic's
    # appointment types, providers or their hours change: the key of booking.clinic's cache.
    data_version = models.BigIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(TenantModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    attention_alerts = models.BooleanField(
        default=False,
        help_text="Email me when a conversation needs attention or waits on staff.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_user_organization"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id} ({self.role})"


class PhoneNumber(TenantModel):
    """A clinic's Twilio number. Routing finds the organization from the number called or texted.

    One active row per number, whatever it can take: a number belongs to one clinic at a time,
    so a text and a call to it can never land in two different clinics.
    """

    number = models.CharField(max_length=20, validators=[validate_phone], help_text="E.164")
    sms_enabled = models.BooleanField("SMS", default=True, help_text="Route texts to it.")
    voice_enabled = models.BooleanField("voice", default=False, help_text="Route calls to it.")
    is_active = models.BooleanField(default=True)
    friendly_name = models.CharField(max_length=100, blank=True)
    messaging_service_sid = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(is_active=True),
                name="phonenumber_one_active_owner",
                violation_error_message="This number is already active for a clinic.",
            ),
            models.UniqueConstraint(
                fields=["messaging_service_sid"],
                condition=models.Q(is_active=True) & ~models.Q(messaging_service_sid=""),
                name="phonenumber_one_active_messaging_service",
                violation_error_message=(
                    "This messaging service is already set on an active number."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(sms_enabled=True) | models.Q(voice_enabled=True),
                name="phonenumber_takes_a_channel",
                violation_error_message="A number takes SMS, voice or both: tick at least one.",
            ),
        ]

    def __str__(self) -> str:
        channels = (("SMS", self.sms_enabled), ("voice", self.voice_enabled))
        takes = [name for name, enabled in channels if enabled]
        return f"{self.number} ({' and '.join(takes)})"
