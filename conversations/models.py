from django.db import models
from django.utils import timezone

from tenants.scoping import TenantModel


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice"
    WHATSAPP = "whatsapp", "WhatsApp"
    WEB = "web", "Web"


class Conversation(TenantModel):
    """One thread with one patient phone on one channel: a 'call' in the staff console."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        ONGOING = "ongoing", "Ongoing"
        COMPLETED = "completed", "Completed"

    session_id = models.CharField(max_length=100)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.SMS)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    direction = models.CharField(
        max_length=16, choices=Direction.choices, default=Direction.INBOUND
    )
    call_status = models.CharField(max_length=16, choices=Status.choices, default=Status.ONGOING)
    start_timestamp = models.DateTimeField(default=timezone.now)
    end_timestamp = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    needs_attention = models.BooleanField(default=False)
    attention_reason = models.CharField(max_length=300, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=160, blank=True)
    patient_name = models.CharField(
        max_length=200, blank=True, help_text="The patient Lexi matched to this phone, if any."
    )
    lexi_state = models.JSONField(
        default=dict, blank=True, help_text="The offline engine's dialogue state."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "session_id"],
                condition=models.Q(call_status="ongoing"),
                name="conversation_one_ongoing_per_session",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-updated_at"], name="conv_org_updated"),
            models.Index(fields=["-updated_at"], name="conv_updated"),
            models.Index(fields=["from_number"], name="conv_from_number"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.session_id}"


class Message(TenantModel):
    class Role(models.TextChoices):
        USER = "user", "Patient"
        ASSISTANT = "assistant", "Lexi"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    metadata = models.JSONField(default=dict, blank=True)
    # NULL, not "": messages without a provider id must not collide on the unique constraint.
    provider_message_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 -- see above

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider_message_id"],
                name="message_provider_id_unique_per_organization",
            )
        ]
        indexes = [models.Index(fields=["conversation", "timestamp", "id"], name="msg_conv_time")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class ToolCall(TenantModel):
    """One action Lexi took during a turn, with what it was asked and what came back."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="tool_calls"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="tool_calls", null=True, blank=True
    )
    call_id = models.CharField(max_length=100, blank=True, help_text="The model's tool call id.")
    round = models.PositiveSmallIntegerField(
        default=0, help_text="Which model round of the turn asked for it (0 = first)."
    )
    name = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    engine = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="toolcall_conv_time")]

    def __str__(self) -> str:
        return self.name
