"""The clinic's data version: raised by the database whenever what booking.clinic caches changes.

A trigger on appointment types, providers and schedule blocks, so that every path (the admin,
`loaddata`, a shell, SQL) invalidates the per-process cache, with nothing to remember in code.
PostgreSQL only: on SQLite (the laptop default) the cache is not used.
"""

from django.db import migrations

from booking.migrations._postgres_only import PostgresOnlySQL

TABLES = ("booking_appointmenttype", "booking_provider", "booking_scheduleblock")

# Versions come from a sequence, which a rolled-back transaction never hands out again: a
# version number always names one state of the clinic's data. SECURITY DEFINER: the application
# role needs no rights on the sequence.
FUNCTION = """
CREATE SEQUENCE IF NOT EXISTS lexi_clinic_data_version;
CREATE OR REPLACE FUNCTION lexi_clinic_data_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  UPDATE tenants_organization SET data_version = nextval('lexi_clinic_data_version')
   WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;
  IF TG_OP = 'UPDATE' AND NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
    UPDATE tenants_organization SET data_version = nextval('lexi_clinic_data_version')
     WHERE id = OLD.organization_id;
  END IF;
  RETURN NULL;
END $$;
"""

# An organization saved from a stale instance (the admin's form) must not lower it again.
MONOTONIC = """
CREATE OR REPLACE FUNCTION lexi_clinic_data_version_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.data_version := GREATEST(NEW.data_version, OLD.data_version);
  RETURN NEW;
END $$;
CREATE TRIGGER tenants_organization_data_version_kept BEFORE UPDATE ON tenants_organization
FOR EACH ROW EXECUTE FUNCTION lexi_clinic_data_version_kept();
"""

TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_clinic_data AFTER INSERT OR UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION lexi_clinic_data_changed();"
    for table in TABLES
)
DROP = "\n".join(f"DROP TRIGGER IF EXISTS {table}_clinic_data ON {table};" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0004_appointment_confirmed_at_time_set_at"),
        ("tenants", "0005_organization_data_version"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=FUNCTION + TRIGGERS + MONOTONIC,
            reverse_sql=DROP
            + "\nDROP FUNCTION IF EXISTS lexi_clinic_data_changed();"
            + "\nDROP TRIGGER IF EXISTS tenants_organization_data_version_kept ON tenants_organization;"
            + "\nDROP FUNCTION IF EXISTS lexi_clinic_data_version_kept();"
            + "\nDROP SEQUENCE IF EXISTS lexi_clinic_data_version;",
            state_operations=[],
        ),
    ]
