from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.scoping import TenantModel


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice"
    WHATSAPP = "whatsapp", "WhatsApp"
    WEB = "web", "Web"


class Outcome(models.TextChoices):
    """What became of an inbound message; on a reply, what kind of answer it is."""

    PENDING = "", "Pending"  # stored, not yet answered (or its answer is in flight)
    QUEUED = "queued", "Queued for Lexi"  # a worker will answer it (queued reply mode)
    ANSWERED = "answered", "Answered by Lexi"
    HELP = "help", "Help text"
    MEDIA = "media", "Picture"
    OPTED_OUT = "opted_out", "Opted out"
    OPTED_IN = "opted_in", "Opted in"
    SUPPRESSED = "suppressed", "Not answered: opted out"
    SLOWED = "slowed", "Told to slow down"
    THROTTLED = "throttled", "Not answered: flood limit"
    FALLBACK = "fallback", "Fallback reply"
    STAFF_ONLY = "staff_only", "Left for staff"
    PAUSED = "paused", "Not answered: staff are handling it"
    STAFF = "staff", "Sent by staff"
    UNCLEAR = "unclear", "Not understood: asked again"  # low speech-recognition confidence


class DeliveryStatus(models.TextChoices):
    """An outbound text's way out, in Twilio's order; it only ever moves forward (see RANK)."""

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    UNKNOWN = "unknown", "Outcome unknown"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"


DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.UNKNOWN: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
}
DELIVERY_TROUBLE = (DeliveryStatus.UNKNOWN, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)


class Conversation(TenantModel):
    """One thread with one patient phone on one channel: a 'call' in the staff console."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        ONGOING = "ongoing", "Ongoing"
        COMPLETED = "completed", "Completed"
        # How a phone call ended, as Twilio's call status reports it.
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"
        NO_ANSWER = "no-answer", "No answer"
        CANCELED = "canceled", "Canceled"

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
    duration_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="A phone call's length, as Twilio reported it."
    )
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
    turn_lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is answering this conversation until then."
    )
    lexi_paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Lexi leaves the patient's texts to staff until then."
    )
    waiting_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Since when the patient has waited on staff (flagged, or texted while paused).",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member handling it.",
    )
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When staff were last emailed about it."
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
            # The inbox: what waits on staff, oldest first.
            models.Index(
                fields=["organization", "waiting_since"],
                name="conv_needs_staff",
                condition=models.Q(needs_attention=True) | models.Q(waiting_since__isnull=False),
            ),
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
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    in_reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    fell_back = models.BooleanField(default=False)
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, blank=True, default=""
    )
    delivery_error_code = models.PositiveIntegerField(null=True, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who wrote it.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider_message_id"],
                name="message_provider_id_unique_per_organization",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "timestamp", "id"], name="msg_conv_time"),
            # The worker's and the recovery sweep's questions: which texts still wait for Lexi,
            # which sends are unfinished, which conversations had a delivery fail.
            models.Index(
                fields=["conversation", "timestamp"],
                name="msg_awaiting_answer",
                condition=models.Q(role="user", outcome__in=["", "queued"]),
            ),
            # A status callback names only the SID (the unique key starts with the clinic).
            models.Index(
                fields=["provider_message_id"],
                name="msg_provider_id",
                condition=models.Q(provider_message_id__isnull=False),
            ),
            models.Index(
                fields=["delivery_updated_at"],
                name="msg_delivery_open",
                condition=models.Q(delivery_status__in=["queued", "sending"]),
            ),
            models.Index(
                fields=["conversation"],
                name="msg_delivery_trouble",
                condition=models.Q(delivery_status__in=["unknown", "undelivered", "failed"]),
            ),
        ]

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


class ConversationRead(TenantModel):
    """How far one staff user has read a conversation: their unread marker."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="conversation_read_one_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.conversation_id} at {self.read_at:%Y-%m-%d %H:%M}"


class QuickReply(TenantModel):
    """A canned text a clinic's staff can drop into the reply box."""

    title = models.CharField(max_length=80)
    body = models.TextField(max_length=1600)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        ordering = ("position", "title")
        verbose_name_plural = "quick replies"

    def __str__(self) -> str:
        return self.title
