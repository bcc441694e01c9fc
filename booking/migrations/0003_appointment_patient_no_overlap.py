"""A patient is in one chair at a time: a PostgreSQL exclusion constraint, as in 0002.

The services check it first (PatientBusy); this makes two simultaneous bookings of one patient
with two providers unable to both win. Model state unchanged (state_operations=[]).
"""

from django.db import migrations

from booking.migrations._postgres_only import PostgresOnlySQL


class Migration(migrations.Migration):

    dependencies = [
        ("booking", "0002_appointment_no_overlap"),
    ]

    operations = [
        PostgresOnlySQL(
            sql="""
                ALTER TABLE booking_appointment
                ADD CONSTRAINT appointment_no_overlap_per_patient
                EXCLUDE USING gist (
                    patient_id WITH =,
                    tstzrange("start", "end", '[)') WITH &&
                ) WHERE (status = 'scheduled')
            """,
            reverse_sql="""
                ALTER TABLE booking_appointment
                DROP CONSTRAINT IF EXISTS appointment_no_overlap_per_patient
            """,
            state_operations=[],
        ),
    ]
