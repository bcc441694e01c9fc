"""One reminder sweep over every clinic, in this process: for cron, demos and tests.

python manage.py send_reminders                               # as of now
python manage.py send_reminders --now 2026-12-08T09:00-05:00  # as if it were then
python manage.py send_reminders --dry-run                     # say what it would do; change nothing
"""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reminders.models import Reminder, lead_label
from reminders.planning import reminders_plan
from reminders.selectors import organizations_reminding
from reminders.services import reminders_sweep_clinic
from tenants.scoping import tenant_scope


def _moment(value: str | None) -> datetime:
    if not value:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now {value!r} is not ISO 8601 (e.g. 2026-12-08T09:00).") from exc
    if timezone.is_naive(moment):
        raise CommandError("--now needs a UTC offset (e.g. 2026-12-08T09:00-05:00 or ...Z).")
    return moment


class Command(BaseCommand):
    help = "Send the appointment reminders due (once each), for every clinic with reminders on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="Sweep as of this ISO 8601 time (with its offset).")
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is due; store and send nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = _moment(options["now"])
        for organization, policy in organizations_reminding():
            with tenant_scope(organization):
                if options["dry_run"]:
                    self._dry_run(organization, policy, now)
                    continue
                result = reminders_sweep_clinic(organization=organization, policy=policy, now=now)
            self.stdout.write(
                f"{organization.slug}: {result.planned} decided, {result.sent} sent, "
                f"{result.skipped} not sent"
            )

    def _dry_run(self, organization: Any, policy: Any, now: datetime) -> None:
        tz = organization.tzinfo
        planned = reminders_plan(organization=organization, policy=policy, now=now)
        waiting = Reminder.objects.filter(
            organization=organization, status=Reminder.Status.SCHEDULED, due_at__lte=now
        ).count()
        self.stdout.write(
            f"{organization.slug}: {len(planned)} to decide, {waiting} already due to send"
        )
        for item in planned:
            if item.skipped:
                what = f"not sent: {item.skip_reason}"
            else:
                what = "send now" if item.due_at <= now else "send then (after quiet hours)"
            self.stdout.write(
                f"  appointment {item.appointment_id}, {lead_label(item.lead_minutes)} before, "
                f"due {item.due_at.astimezone(tz):%Y-%m-%d %H:%M %Z}: {what}"
            )
