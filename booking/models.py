"""Scheduling data of a clinic: who works when, who the patients are, what is booked.

Times of day (schedule blocks, closures) are the organization's local wall time; appointment
start/end are aware datetimes (stored in UTC). Double booking is refused by the services and, on
PostgreSQL, by an exclusion constraint added in migration 0002 (not declared here so that SQLite,
the laptop default, keeps a clean `makemigrations --check`).
"""

from django.db import models
from django.utils import timezone

from tenants.models import validate_phone
from tenants.scoping import TenantModel

# The name of the PostgreSQL exclusion constraint; services recognise its IntegrityError by it.
APPOINTMENT_NO_OVERLAP = "appointment_no_overlap_per_provider"
PATIENT_NO_OVERLAP = "appointment_no_overlap_per_patient"


class Provider(TenantModel):
    """A dentist or hygienist patients can be booked with, e.g. "Dr. Pearl"."""

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="provider_unique_name_per_organization"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AppointmentType(TenantModel):
    """What a visit is for, and how long it takes."""

    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField()
    keywords = models.TextField(
        blank=True, help_text="Comma-separated words patients use for it, e.g. 'clean, hygiene'."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="appointmenttype_unique_name_per_organization",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0, duration_minutes__lte=720),
                name="appointmenttype_duration_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"

    @property
    def keyword_list(self) -> list[str]:
        return [word.strip() for word in self.keywords.split(",") if word.strip()]


class ScheduleBlock(TenantModel):
    """A provider works `start_time`-`end_time` (local wall time) every `weekday`."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="schedule")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["provider", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="scheduleblock_starts_before_it_ends",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6),
                name="scheduleblock_weekday_range",
            ),
        ]

    def __str__(self) -> str:
        day = self.Weekday(self.weekday).label
        return f"{day} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class Closure(TenantModel):
    """A day nobody (provider=None) or one provider can be booked: holiday, training, leave."""

    date = models.DateField()
    provider = models.ForeignKey(
        Provider,
        on_delete=models.CASCADE,
        related_name="closures",
        null=True,
        blank=True,
        help_text="Leave empty to close the whole office.",
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        indexes = [models.Index(fields=["organization", "date"], name="closure_org_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}".strip()


class Patient(TenantModel):
    """A patient of the clinic. Several patients may share one phone (a family)."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=20, validators=[validate_phone], help_text="E.164")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["organization", "phone"], name="patient_org_phone")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Appointment(TenantModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"

    class Source(models.TextChoices):
        SMS = "sms", "SMS"
        VOICE = "voice", "Voice"
        ADMIN = "admin", "Admin"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SMS)
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    notes = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient confirmed the visit (a reminder reply)."
    )
    # Reminders whose time had already passed when the visit got this time are not sent.
    time_set_at = models.DateTimeField(
        default=timezone.now, help_text="When the visit was booked or last moved."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")),
                name="appointment_starts_before_it_ends",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "start"], name="appt_provider_start"),
            models.Index(fields=["organization", "start"], name="appt_org_start"),
            models.Index(fields=["patient", "start"], name="appt_patient_start"),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} at {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"
