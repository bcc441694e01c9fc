"""Settings for Lexi. Everything that differs between machines comes from the environment."""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("LEXI_READ_DOTENV", default=True):  # the test suite runs from its own settings
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_INSECURE_DEV_KEY = "django-insecure-lexi-local-development-only"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or .env) "
            "when DEBUG is off; see .env.example."
        )
    SECRET_KEY = _INSECURE_DEV_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "console.apps.ConsoleAdminConfig",  # django.contrib.admin with the tenant-scoped site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_tasks_db",
    "tenants",
    "conversations",
    "booking",
    "frontdesk",
    "sms",
    "voice",
    "reminders",
    "lexi.apps.LexiConfig",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lexi.urls"
WSGI_APPLICATION = "lexi.wsgi.application"
ASGI_APPLICATION = "lexi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus the tenant scope carried into each transaction (row-level security).
    DATABASES["default"]["ENGINE"] = "tenants.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    # Fail fast while the database is down, so Twilio retries instead of waiting on us.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 3)
    # Parameters bound by the server, and a statement run a second time on a connection is
    # prepared: PostgreSQL then neither parses nor plans it again (half its CPU per turn).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 1)
    # .iterator() would DECLARE a server-side cursor in a transaction of its own, outside the
    # one that carries the tenant scope: row-level security would then show it no rows.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    # Concurrent webhook requests on a laptop wait for the write lock instead of failing.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

# Row-level security: migrations run as the owner (DATABASE_OWNER_URL, used by `make migrate`
# and the release step), the application as DATABASE_APP_ROLE, which owns nothing.
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="lexi_app")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# Lexi's own texts in the patient's language (conversations/language.py); compiled by
# `make install` from locale/*/LC_MESSAGES/django.po.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest exists only after collectstatic (the Docker build); tests go without.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

# Background work: Django Tasks. `database` (django-tasks-db: the same database, worker
# `manage.py db_worker`) needs nothing more; `rq` scales out on Redis (worker `manage.py
# rqworker`); `immediate` runs each task at once, in the enqueuing process (tests).
LEXI_TASKS_BACKEND = env.str("LEXI_TASKS_BACKEND", default="database")
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
if LEXI_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"LEXI_TASKS_BACKEND={LEXI_TASKS_BACKEND!r}: use one of {', '.join(_TASK_BACKENDS)}."
    )
TASKS: dict[str, Any] = {"default": {"BACKEND": _TASK_BACKENDS[LEXI_TASKS_BACKEND]}}
# Sweeps that `manage.py lexi_clock` enqueues every LEXI_CLOCK_SECONDS (they run on workers).
LEXI_PERIODIC_TASKS = ["sms.tasks.sms_recover", "reminders.tasks.reminders_sweep"]
LEXI_CLOCK_SECONDS = env.float("LEXI_CLOCK_SECONDS", default=60.0)
if LEXI_TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS["default"]["QUEUES"] = ["default"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}

# Twilio
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
# Where the REST client sends: Twilio's own API, or a local server speaking its protocol.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
# How texts that are not inline replies go out: twilio, console (prints), locmem (tests).
LEXI_SMS_BACKEND = env.str(
    "LEXI_SMS_BACKEND", default="twilio" if TWILIO_ACCOUNT_SID else "console"
)
LEXI_SEND_TIMEOUT_SECONDS = env.float("LEXI_SEND_TIMEOUT_SECONDS", default=10.0)
LEXI_SEND_RETRY_WINDOW_SECONDS = env.float("LEXI_SEND_RETRY_WINDOW_SECONDS", default=60.0)
LEXI_SEND_BACKOFF_SECONDS = env.float("LEXI_SEND_BACKOFF_SECONDS", default=1.0)

# Lexi
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="") or None
LEXI_ENGINE = env.str("LEXI_ENGINE", default="") or ("openai" if OPENAI_API_KEY else "offline")
LEXI_MODEL = env.str("LEXI_MODEL", default="gpt-4o-mini")
LEXI_DEFAULT_ORGANIZATION = env.str("LEXI_DEFAULT_ORGANIZATION", default="")
LEXI_TURN_DEADLINE_SECONDS = env.float("LEXI_TURN_DEADLINE_SECONDS", default=10.0)
LEXI_LLM_TIMEOUT_SECONDS = env.float("LEXI_LLM_TIMEOUT_SECONDS", default=6.0)
LEXI_MAX_TOOL_ROUNDS = env.int("LEXI_MAX_TOOL_ROUNDS", default=6)
LEXI_HISTORY_MESSAGES = env.int("LEXI_HISTORY_MESSAGES", default=30)
LEXI_HISTORY_TOKEN_BUDGET = env.int("LEXI_HISTORY_TOKEN_BUDGET", default=3000)
LEXI_CONVERSATION_QUIET_HOURS = env.float("LEXI_CONVERSATION_QUIET_HOURS", default=24.0)
LEXI_SENDER_LIMIT_PER_MINUTE = env.int("LEXI_SENDER_LIMIT_PER_MINUTE", default=10)
# twiml (inline reply) or queued (a worker answers and sends); empty: queued for a model,
# twiml for the offline engine. Per clinic overridable in the admin.
LEXI_REPLY_MODE = env.str("LEXI_REPLY_MODE", default="")
LEXI_REPLY_DEBOUNCE_SECONDS = env.float("LEXI_REPLY_DEBOUNCE_SECONDS", default=3.0)
# How long a worker may hold a conversation for one turn and its send before another may.
LEXI_TURN_LEASE_SECONDS = env.float("LEXI_TURN_LEASE_SECONDS", default=120.0)

# Voice: a caller waits on the line, so a model gets this long before the offline engine
# answers; speech recognised with less confidence than this is asked again, not acted on.
LEXI_VOICE_DEADLINE_SECONDS = env.float("LEXI_VOICE_DEADLINE_SECONDS", default=5.0)
LEXI_VOICE_MIN_CONFIDENCE = env.float("LEXI_VOICE_MIN_CONFIDENCE", default=0.4)

# Staff takeover: a staff reply (or Lexi's own hand-off) leaves the patient to staff this long.
LEXI_TAKEOVER_HOURS = env.float("LEXI_TAKEOVER_HOURS", default=12.0)
# Where links in alert emails point (the staff console's public address).
LEXI_CONSOLE_BASE_URL = (
    env.str("LEXI_CONSOLE_BASE_URL", default="") or PUBLIC_BASE_URL or "http://127.0.0.1:8000"
).rstrip("/")

# Email (staff alerts). Without EMAIL_HOST the console backend prints them (development).
# Django 6.1 reads mail settings from MAILERS; the environment keeps the familiar names.
_SMTP_OPTIONS = {
    "host": env.str("EMAIL_HOST", default=""),
    "port": env.int("EMAIL_PORT", default=587),
    "username": env.str("EMAIL_HOST_USER", default=""),
    "password": env.str("EMAIL_HOST_PASSWORD", default=""),
    "use_tls": env.bool("EMAIL_USE_TLS", default=True),
    "timeout": env.int("EMAIL_TIMEOUT_SECONDS", default=10),
}
MAILERS: dict[str, Any] = {
    "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": _SMTP_OPTIONS}
    if _SMTP_OPTIONS["host"]
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lexi <lexi@localhost>")

# Booking
BOOKING_SLOT_MINUTES = env.int("BOOKING_SLOT_MINUTES", default=30)
BOOKING_MIN_NOTICE_MINUTES = env.int("BOOKING_MIN_NOTICE_MINUTES", default=120)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "lexi.log.MaskingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default config also prints "django" records plainly when DEBUG is on: one
        # handler here, so each line shows once, masked and with its time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}
