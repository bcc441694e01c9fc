"""One active owner per number across all channels; a number's channels become capabilities.

Until now a row was unique per (number, channel), so one number could be active for SMS in one
clinic and for voice in another, and routing took whichever it found first. Today's rows become:
- rows of the same number in the same organization (and the same active state) merge into the
  oldest of them, which takes every channel the merged rows had, and their friendly name and
  messaging service SID where it had none; a `whatsapp` row takes SMS, since the messaging
  webhook is what served it;
- a number still active in two organizations stays active only in the one whose row is older;
  the other organization's row is deactivated (kept, so a platform admin can see and move it);
- a messaging service SID still set on two active rows stays on the older row and is cleared on
  the other (that number keeps routing by its own number).
The reverse splits a row that takes both channels back into an SMS row and a voice row.
"""

from typing import Any

from django.db import migrations, models

from tenants.scoping import unscoped


def _merge_channels(apps: Any, schema_editor: Any) -> None:
    phone_number = apps.get_model("tenants", "PhoneNumber")
    numbers = phone_number.objects.using(schema_editor.connection.alias)
    # The rows of every organization: row-level security must not hide any of them.
    with unscoped():
        kept: dict[tuple[Any, str, bool], Any] = {}
        for row in numbers.order_by("created_at", "pk"):
            takes_sms, takes_voice = row.channel != "voice", row.channel == "voice"
            first = kept.setdefault((row.organization_id, row.number, row.is_active), row)
            if first is row:
                row.sms_enabled, row.voice_enabled = takes_sms, takes_voice
                continue
            first.sms_enabled = first.sms_enabled or takes_sms
            first.voice_enabled = first.voice_enabled or takes_voice
            first.friendly_name = first.friendly_name or row.friendly_name
            first.messaging_service_sid = first.messaging_service_sid or row.messaging_service_sid
            row.delete()
        owners: set[str] = set()
        services: set[str] = set()
        for row in kept.values():  # oldest first: dicts keep insertion order
            if row.is_active and row.number in owners:
                row.is_active = False
            elif row.is_active:
                owners.add(row.number)
            service = row.messaging_service_sid
            if row.is_active and service and service in services:
                row.messaging_service_sid = ""
            elif row.is_active and service:
                services.add(service)
            row.save()


def _split_channels(apps: Any, schema_editor: Any) -> None:
    phone_number = apps.get_model("tenants", "PhoneNumber")
    numbers = phone_number.objects.using(schema_editor.connection.alias)
    if schema_editor.connection.vendor == "postgresql":
        # A deferred foreign-key check left pending would forbid the ALTER TABLEs that follow.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with unscoped():
        numbers.filter(sms_enabled=False).update(channel="voice")
        for row in numbers.filter(sms_enabled=True, voice_enabled=True):
            numbers.create(
                organization_id=row.organization_id,
                number=row.number,
                channel="voice",
                is_active=row.is_active,
                friendly_name=row.friendly_name,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_organization_lexi_reply_mode"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="phonenumber",
            name="phonenumber_one_active_owner",
        ),
        migrations.AddField(
            model_name="phonenumber",
            name="sms_enabled",
            field=models.BooleanField(default=True, help_text="Route texts to it.", verbose_name="SMS"),
        ),
        migrations.AddField(
            model_name="phonenumber",
            name="voice_enabled",
            field=models.BooleanField(
                default=False, help_text="Route calls to it.", verbose_name="voice"
            ),
        ),
        migrations.RunPython(_merge_channels, _split_channels),
        migrations.RemoveField(
            model_name="phonenumber",
            name="channel",
        ),
        migrations.AddConstraint(
            model_name="phonenumber",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True)),
                fields=("number",),
                name="phonenumber_one_active_owner",
                violation_error_message="This number is already active for a clinic.",
            ),
        ),
        migrations.AddConstraint(
            model_name="phonenumber",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_active", True), models.Q(("messaging_service_sid", ""), _negated=True)),
                fields=("messaging_service_sid",),
                name="phonenumber_one_active_messaging_service",
                violation_error_message="This messaging service is already set on an active number.",
            ),
        ),
        migrations.AddConstraint(
            model_name="phonenumber",
            constraint=models.CheckConstraint(
                condition=models.Q(("sms_enabled", True), ("voice_enabled", True), _connector="OR"),
                name="phonenumber_takes_a_channel",
                violation_error_message="A number takes SMS, voice or both: tick at least one.",
            ),
        ),
    ]
