# The few commands a newcomer needs. Everything installs into .venv inside the checkout.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format bench clean

$(BIN)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

install: $(BIN)/.installed

# Install, migrate, load demo data into an empty database, and serve with gunicorn.
run: install
	@test -f .env || { \
	  echo "# local settings written by 'make run'; never commit this file" > .env; \
	  echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env; \
	  echo "# plain http on localhost: cookies cannot be Secure-only" >> .env; \
	  echo "SESSION_COOKIE_SECURE=false" >> .env; \
	  echo "CSRF_COOKIE_SECURE=false" >> .env; \
	  echo "SECURE_HSTS_SECONDS=0" >> .env; \
	  echo "SECURE_SSL_REDIRECT=false" >> .env; \
	}
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/gunicorn funsun.wsgi -c deploy/gunicorn.conf.py --bind $(HOST):$(PORT)

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
