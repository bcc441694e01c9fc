from django.db import models
from django.utils import timezone

from tenants.scoping import TenantModel


class SmsOptOut(TenantModel):
    """A patient phone's consent for one clinic: STOP sets it, START/UNSTOP clear it."""

    phone = models.CharField(max_length=32)
    opted_out = models.BooleanField(default=True)
    keyword = models.CharField(max_length=16, blank=True, help_text="The word that set it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SMS opt-out"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "phone"], name="smsoptout_unique_organization_phone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({'out' if self.opted_out else 'in'})"


class UnroutedMessage(models.Model):
    """A text to a number no clinic owns. Not tenant-owned: platform staff triage these."""

    message_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.message_sid} to {self.to_number}"
