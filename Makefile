# The few commands a newcomer needs. Everything installs into .venv inside the checkout.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
BASE_URL = http://$(HOST):$(PORT)
PIP_INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes

.PHONY: install install-runtime run superuser test lint format bench clean

# Development: requirements-dev.lock holds the runtime dependencies (the same versions and
# hashes as requirements.lock) and the test tools.
$(BIN)/.installed: requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@

install: $(BIN)/.installed

# Production: the runtime dependencies alone (what deploy/Dockerfile installs too).
install-runtime:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.lock

# Local settings for plain http on this machine, written once (the tests never read it).
.env:
	@echo "# local settings written by 'make run'; never commit this file" > $@
	@echo "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" >> $@
	@echo "# plain http on localhost: cookies cannot be Secure-only" >> $@
	@echo "SESSION_COOKIE_SECURE=false" >> $@
	@echo "CSRF_COOKIE_SECURE=false" >> $@
	@echo "SECURE_HSTS_SECONDS=0" >> $@
	@echo "SECURE_SSL_REDIRECT=false" >> $@

# Install, migrate, load the demo data when its accounts are missing, say where to go, and
# serve with gunicorn on HOST:PORT, with the background jobs' consumer beside it (refunds,
# reconciliation; README "Background jobs"): started first, stopped when gunicorn stops
# (Ctrl-C, or a TERM to the process group: the EXIT trap runs either way; INT lets a job
# under way finish). Payment return URLs follow HOST:PORT unless PUBLIC_BASE_URL is set
# (environment or .env).
run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "FunSun on $(BASE_URL)  (Ctrl-C stops it)"
	@echo "  API base    $(BASE_URL)/           e.g. $(BASE_URL)/funding/public?page=1"
	@echo "  Swagger UI  $(BASE_URL)/swagger/   POST /account/login, then Authorize with the access_token"
	@echo "  ReDoc       $(BASE_URL)/redoc/"
	@echo "  Admin       $(BASE_URL)/admin/     an operator account first: make superuser"
	@echo "  Jobs        refunds and reconciliation: manage.py run_huey, started with the server"
	@echo
	@if [ -z "$${PUBLIC_BASE_URL:-}" ] && ! grep -q '^PUBLIC_BASE_URL=' .env; then \
	  export PUBLIC_BASE_URL=$(BASE_URL); fi; \
	$(BIN)/python manage.py run_huey --flush-locks & jobs=$$!; \
	trap 'kill -INT $$jobs 2>/dev/null; wait $$jobs 2>/dev/null' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(BIN)/gunicorn funsun.wsgi -c deploy/gunicorn.conf.py --bind $(HOST):$(PORT)

# An operator (staff + superuser) for /admin/: asks for an email, a username, a password.
superuser: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createsuperuser

# Lint and the whole test suite (SQLite by default; PostgreSQL when DATABASE_URL says so).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) staticfiles .test-media .test-db.sqlite3*
