# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test lint format bench bench-smoke bench-databases install messages clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

## run: the service with demo data, a Celery worker and beat (http://127.0.0.1:8000/)
run: $(STAMP)
	bash scripts/run.sh

## test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff's checks and format (ruff.toml), then mypy's types (mypy.ini), as CI runs them before the tests
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## format: rewrite the code in ruff's format (what `make lint` checks)
format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: the benchmarks under bench/ (the ticket lists need PostgreSQL: BENCH_DATABASE_URL)
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench: $(STAMP)
	$(PY) bench/business_time.py
	$(MAKE) --no-print-directory bench-databases

## bench-smoke: every benchmark at about a thousand tickets, on databases made afresh (CI runs it; the figures mean nothing)
bench-smoke: $(STAMP)
	$(PY) bench/business_time.py --n 2000 --repeat 1
	BENCH_SMOKE=1 $(MAKE) --no-print-directory bench-databases

bench-databases:
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/tickets_list.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/close_unanswered.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/sla_month.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/mail_in.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/report_post.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/http_load.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -W ignore bench/monitoring.py

## messages: recompile the translations after editing locale/*/LC_MESSAGES/django.po
messages: $(STAMP)
	DEBUG=true $(PY) manage.py makemessages --locale sv --locale en --no-location --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*'
	DEBUG=true $(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var staticfiles
