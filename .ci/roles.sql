-- Roles for row-level security (see README, "Row-level security"). Idempotent.
-- lexi_owner owns the tables and runs migrations; lexi_app is what the application connects as:
-- no superuser, no BYPASSRLS, owns nothing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lexi_owner') THEN
    CREATE ROLE lexi_owner LOGIN CREATEDB BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lexi_app') THEN
    CREATE ROLE lexi_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
