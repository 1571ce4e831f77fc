# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve run test lint install install-test browser node vendor pdf-deps bench-feeds bench-mail bench-load bench-answers bench-reports translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Compiled catalogs (.mo) are build output, made from the .po files by run and test.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard eventsapp/translations/*/LC_MESSAGES/messages.po))
%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@

## translations: extract the texts from code and templates, update the catalogs, compile
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  -o eventsapp/translations/messages.pot .
	$(BIN)/pybabel update -i eventsapp/translations/messages.pot -d eventsapp/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q compile -d eventsapp/translations

## run: the app with demo data on SQLite at http://$(HOST):$(PORT); mail goes to instance/mail/
## (links in mails and feeds point there too, unless EVENTSAPP_BASE_URL is set)
run: export EVENTSAPP_BASE_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.installed pdf-deps vendor $(MO_FILES)
	$(FLASK) db upgrade
	$(FLASK) demo-data
	@echo "eventsapp: http://$(HOST):$(PORT)  (links in mail: $$EVENTSAPP_BASE_URL; mail is written to instance/mail/ unless MAIL_SERVER is set)"
	@EVENTSAPP_CONFIG=$${EVENTSAPP_CONFIG:-DevelopmentConfig} sh -c '\
	  $(FLASK) worker & worker=$$!; \
	  trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)'

## serve: production-style: gunicorn (gunicorn.conf.py) and a worker; see docs/operations.md
serve: $(VENV)/.installed pdf-deps vendor $(MO_FILES)
	$(FLASK) db upgrade
	@sh -c '$(FLASK) worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app'

## pdf-deps: Pango for WeasyPrint and fonts with Latin, Turkish, Cyrillic and Arabic letters
## for the report PDF (DejaVu and Noto from Debian; nothing is fetched at run time)
pdf-deps:
	@if ! fc-list :lang=ar 2>/dev/null | grep -q 'Noto Sans Arabic' \
	    || ! fc-list :lang=uk 2>/dev/null | grep -q 'DejaVu Sans' \
	    || ! ldconfig -p | grep -q libpangoft2-1.0; then \
	  echo "installing Pango and the report fonts from Debian"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core fonts-noto-core >/dev/null; \
	fi

## browser: Debian's Chromium for the page tests (Playwright cannot download its own here)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

## vendor: browser code from the npm registry that the app serves from its own origin
## (jsQR for the check-in page's camera; pinned in assets/package-lock.json)
vendor: eventsapp/static/vendor/jsQR.js
eventsapp/static/vendor/jsQR.js: assets/package.json assets/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  echo "installing nodejs and npm from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	npm ci --prefix assets --no-audit --no-fund --silent
	mkdir -p eventsapp/static/vendor
	cp assets/node_modules/jsqr/dist/jsQR.js $@

## node: Node.js, Mozilla's ical.js (a second calendar parser) and TypeScript with schema-dts (schema.org types) for the tests
node: tests/js/node_modules/.installed
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  echo "installing nodejs and npm from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	fi
	npm ci --prefix tests/js --no-audit --no-fund --silent
	touch $@

## test: lint, the import layers (pyproject.toml), the whole suite on SQLite, then again on PostgreSQL when 127.0.0.1:5432 answers
test: $(VENV)/.installed-test browser node vendor pdf-deps $(MO_FILES)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest
	@if $(BIN)/python -m tests.postgres; then \
	  echo "the whole suite again, on PostgreSQL"; \
	  EVENTSAPP_TEST_ENGINE=postgresql $(BIN)/pytest; \
	elif [ -n "$$EVENTSAPP_REQUIRE_POSTGRES" ]; then \
	  echo "PostgreSQL is required (EVENTSAPP_REQUIRE_POSTGRES) but does not answer"; exit 1; \
	else \
	  echo "PostgreSQL does not answer: the suite ran on SQLite only"; \
	fi

## bench-feeds: cold feed builds and served feeds against a bare Flask hello (docs/performance.md)
bench-feeds: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks.feeds

## bench-reports: the report page, CSV, JSON and PDF of a year with 5,000 registrations and 2,000 answers
bench-reports: $(VENV)/.installed-test pdf-deps
	$(BIN)/python -m benchmarks.reports

## bench-mail: outbox delivery against the SMTP sink's own ceiling (docs/performance.md)
bench-mail: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.mail

## bench-load: pages, API and registration under gunicorn against a bare Flask hello, then
## a rush of 2,100 registrations on a date with partner contingents (benchmarks/rush.py)
bench-load: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.rush

## bench-answers: registering and subscribing take as long for known as for new addresses
bench-answers: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.answer_timing

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
