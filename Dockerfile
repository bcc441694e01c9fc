# Multi-stage build: dependencies in a builder, a slim non-root runtime running gunicorn.
FROM python:3.13-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY lexi ./lexi
COPY tenants ./tenants
COPY conversations ./conversations
COPY booking ./booking
COPY frontdesk ./frontdesk
COPY sms ./sms
COPY voice ./voice
COPY console ./console
COPY reminders ./reminders
RUN pip install --upgrade pip && pip install .

FROM python:3.13-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=lexi.settings
RUN groupadd --system lexi && useradd --system --gid lexi --home-dir /app lexi
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --chown=lexi:lexi . /app
# collectstatic needs settings to import: a throwaway key, never used at run time.
RUN SECRET_KEY=collectstatic-only DEBUG=False python manage.py collectstatic --noinput \
    && python -m lexi.translations
USER lexi
EXPOSE 8000
# Same environment variables as `make run` (see .env.example); migrations run as a release step:
#   docker run --env-file .env IMAGE python manage.py migrate
# The same image runs the task workers and the one clock (README, "Production"):
#   docker run --env-file .env IMAGE python manage.py db_worker
#   docker run --env-file .env IMAGE python manage.py lexi_clock
CMD ["gunicorn", "lexi.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--timeout", "20", "--access-logfile", "-"]
