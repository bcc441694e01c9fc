# Lexi: `make run` (install, migrate, load the demo, serve) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 on PATH or under ~/.pyenv/versions.
PYTHON_BOOTSTRAP := $(shell for c in python3.14 python3.13 python3.12 python3 \
	$$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: run test install migrate demo logins serve worker lint typecheck check bench eval clean

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON_BOOTSTRAP)" ]; then \
	  echo "Lexi needs Python 3.12 or newer and none was found on PATH or under ~/.pyenv/versions." >&2; \
	  echo "Install one (e.g. 'pyenv install 3.13') and run make again." >&2; exit 1; fi
	@[ -x $(PY) ] || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

locale/es/LC_MESSAGES/django.mo: locale/es/LC_MESSAGES/django.po $(VENV)/.installed
	$(PY) -m lexi.translations

install: $(VENV)/.installed locale/es/LC_MESSAGES/django.mo

# A local .env on first run: DEBUG on, a fresh secret key and a local Twilio token, so that the
# server and `manage.py sms` sign and verify with the same token. Never overwritten.
.env:
	@$(PY) -c "import secrets, pathlib; t = pathlib.Path('.env.example').read_text(); \
	t = t.replace('SECRET_KEY=change-me', 'SECRET_KEY=' + secrets.token_urlsafe(40)); \
	t = t.replace('TWILIO_AUTH_TOKEN=\n', 'TWILIO_AUTH_TOKEN=local-' + secrets.token_hex(16) + '\n'); \
	pathlib.Path('.env').write_text(t)"
	@echo "Wrote .env (DEBUG=True, a local SECRET_KEY and TWILIO_AUTH_TOKEN); edit it to configure."

migrate: install .env
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py loaddata demo
	$(PY) manage.py demo_logins

# The web server, one task worker (django-tasks-db: queued replies, outbound texts, sweeps)
# and the clock that enqueues the periodic sweeps. Ctrl-C stops all three.
serve: install .env
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT; \
	$(PY) manage.py db_worker --interval 0.1 --no-reload & \
	$(PY) manage.py lexi_clock & \
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: install .env
	$(PY) manage.py db_worker --interval 0.1

run: demo serve

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	DEBUG=True $(VENV)/bin/mypy .

check: lint typecheck
	DEBUG=True $(PY) manage.py makemigrations --check --dry-run
	DEBUG=True $(PY) manage.py check

bench: install
	$(PY) bench/run.py

# Whole conversations written as patients write, through the webhook (offline engine): the
# share that ends as the patient meant (evals/conversations.json).
eval: install
	$(PY) -m pytest evals -q -p no:cacheprovider -p no:logging

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .mypy_cache .ruff_cache
