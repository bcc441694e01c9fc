"""No two scheduled appointments of one provider may overlap: a PostgreSQL exclusion constraint.

Added here rather than in Appointment.Meta.constraints because SQLite (the laptop default)
cannot hold it and `makemigrations --check` must stay clean there; the model state is unchanged
(state_operations=[]), and on SQLite the service serializes writers instead. The name is
booking.models.APPOINTMENT_NO_OVERLAP, which the services match to report SlotTaken.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from booking.migrations._postgres_only import PostgresOnlySQL


class Migration(migrations.Migration):

    dependencies = [
        ("booking", "0001_initial"),
    ]

    operations = [
        BtreeGistExtension(),
        PostgresOnlySQL(
            sql="""
                ALTER TABLE booking_appointment
                ADD CONSTRAINT appointment_no_overlap_per_provider
                EXCLUDE USING gist (
                    provider_id WITH =,
                    tstzrange("start", "end", '[)') WITH &&
                ) WHERE (status = 'scheduled')
            """,
            reverse_sql="""
                ALTER TABLE booking_appointment
                DROP CONSTRAINT IF EXISTS appointment_no_overlap_per_provider
            """,
            state_operations=[],
        ),
    ]
