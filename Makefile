# Two commands do all the set-up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
HOST ?= 127.0.0.1
BIN := $(VENV)/bin

.PHONY: serve test install install-dev bench clean schemathesis k8s-scan load cluster-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files keep `make serve` from reinstalling on every start; they follow pyproject.toml.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Starts the gateway on embedded PostgreSQL/Redis/Ray unless DATABASE_URL/REDIS_URL/RAY_ADDRESS are set;
# migrations are applied at start.
serve: install
	$(BIN)/roost serve --host $(HOST) --port $(PORT)

# The browser tests (tests/web/test_browser.py) drive Debian's chromium, installed here when missing
# and apt-get works; without it they skip and say why.
test: install-dev
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || true
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# schemathesis over every documented operation of the four OpenAPI documents, against the app on
# the same services as `make test` (tests/openapi/test_schemathesis.py says how it is bounded);
# a few minutes, so `make test` skips it and .ci/run runs it after the suite. Its wall-clock
# ceiling (past it the run fails) is 10 minutes here: about 170 operations take 3-4 on a quiet
# machine, and a busy one must not fail a run that found nothing.
SCHEMATHESIS_BUDGET_S ?= 600
# generated cases per operation and phase (the coverage phase's boundary cases come on top): 12
# keeps the CI run's fuzzing at about four minutes for some 180 operations; more for a deep run
SCHEMATHESIS_MAX_EXAMPLES ?= 12
schemathesis: install-dev
	SCHEMATHESIS_MAX_EXAMPLES=$(SCHEMATHESIS_MAX_EXAMPLES) SCHEMATHESIS_BUDGET_S=$(SCHEMATHESIS_BUDGET_S) ROOST_SCHEMATHESIS=1 $(BIN)/python -m pytest -q -p no:cacheprovider -s --show-capture=no --tb=short \
		tests/openapi/test_schemathesis.py $(PYTEST_ARGS)

# checkov over the rendered Kustomize overlays and the Dockerfile (tests/k8s/checkov_scan.py; the
# skipped checks are justified in k8s/checkov.yaml), then a control copy it must fail. checkov's
# pins clash with ours, so it has a venv of its own inside .venv (`make clean` removes both).
# The overlays' schemas and Roost's own manifest rules are pytest tests (tests/k8s, in `make test`).
CHECKOV_VENV := $(VENV)/checkov
$(CHECKOV_VENV)/.installed: k8s/checkov-requirements.txt | $(BIN)/python
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r k8s/checkov-requirements.txt
	touch $@

k8s-scan: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/python tests/k8s/checkov_scan.py

# wrk drives the HTTP benchmarks; it comes from Debian when missing.
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python loadtests/bench.py $(SCENARIOS)

# The mixed Locust profile (every kind of user, loadtests/mixed.py) headless for LOAD_DURATION:
# without LOAD_HOSTS it starts LOAD_GATEWAYS local gateways (two or more share one Ray) on the
# PostgreSQL/Redis of DATABASE_URL/REDIS_URL (embedded when unset), a fresh database and the fake
# AI provider, and stops them after.
# Prints failures, p50/p99 per request type and the 429s; non-zero on failures other than
# deliberate 429s (LOAD_QUOTA sets a daily quota whose 429s are). loadtests/README.md has more.
LOAD_USERS ?= 60
LOAD_DURATION ?= 60s
LOAD_GATEWAYS ?= 1
LOAD_QUOTA ?= 0
LOAD_HOSTS ?=
load: install-dev
	$(BIN)/python loadtests/load.py --users $(LOAD_USERS) --duration $(LOAD_DURATION) --gateways $(LOAD_GATEWAYS) \
		--quota $(LOAD_QUOTA) $(if $(LOAD_HOSTS),--hosts $(LOAD_HOSTS)) $(LOAD_ARGS)

# A real multi-node run (tests/cluster, issue 15 item 4): a Ray head and a Ray worker, each with a
# gateway, in network namespaces of their own (root needed), against the machine's PostgreSQL and
# Redis (DATABASE_URL/REDIS_URL, else 127.0.0.1) through socat on the bridge; the worker host is
# killed under load. About a minute; prints its figures; `make test` skips it.
cluster-test: install-dev
	@command -v socat >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat)
	ROOST_CLUSTER_TEST=1 $(BIN)/python -m pytest -q -p no:cacheprovider -s --tb=short tests/cluster $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
