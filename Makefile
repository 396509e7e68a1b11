# One command runs the platform, one runs the tests. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
# KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL set by the user: use those servers, start none.
LOCAL_KAFKA := $${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}
PYTEST_ARGS ?=

.PHONY: help bootstrap run test faults lint unit bench tools browser infra-up infra-down kafka-up postgres-up clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

bootstrap: ## Install uv (if missing) and the locked Python environment
	@python3 -m uv --version >/dev/null 2>&1 || command -v uv >/dev/null || python3 -m pip install --quiet 'uv>=0.9'
	@$(UV) sync --all-packages --frozen --quiet

run: bootstrap kafka-up ## Broker, the four services (SQLite), a stream of demo calls; Ctrl-C stops
	@deploy/run.sh

test: bootstrap tools browser infra-up lint ## The whole suite: lint, types, unit, integration, end-to-end
	@export KAFKA_BOOTSTRAP_SERVERS="$(LOCAL_KAFKA)"; \
	  export CALLCENTER_TEST_POSTGRES_URL="$${DATABASE_URL:-$$(deploy/postgres.sh url)}"; \
	  $(UV) run --frozen pytest -m "not faults" $(PYTEST_ARGS)

faults: bootstrap infra-up ## The fault suite: kills, broker restarts, rebalances, scale-out
	@export KAFKA_BOOTSTRAP_SERVERS="$(LOCAL_KAFKA)"; \
	  export CALLCENTER_TEST_POSTGRES_URL="$${DATABASE_URL:-$$(deploy/postgres.sh url)}"; \
	  $(UV) run --frozen pytest -m faults tests/faults $(PYTEST_ARGS)

unit: bootstrap tools ## Only the fast tests that need no broker and no database server
	@$(UV) run --frozen pytest -m "not kafka and not postgres and not e2e and not faults" $(PYTEST_ARGS)

lint: bootstrap ## ruff (lint + format) and mypy --strict
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy

bench: bootstrap infra-up ## Benchmarks side by side with their baselines; writes docs/benchmarks.md
	@KAFKA_BOOTSTRAP_SERVERS="$(LOCAL_KAFKA)" \
	  CALLCENTER_BENCH_POSTGRES_URL="$${CALLCENTER_BENCH_POSTGRES_URL:-$$(deploy/postgres.sh url)}" \
	  $(UV) run --frozen python -m bench

tools: ## Pinned tools the manifest tests run (kustomize, checkov) into .local/
	@deploy/tools.sh

browser: ## Debian's Chromium and chromedriver for the dashboard's browser test
	@deploy/chromium.sh

infra-up: kafka-up postgres-up ## Start the local Kafka broker and PostgreSQL (idempotent)

kafka-up:
	@deploy/kafka.sh up

postgres-up:
	@deploy/postgres.sh up

infra-down: ## Stop the local broker and PostgreSQL
	@deploy/kafka.sh down
	@deploy/kafka-secure.sh down
	@deploy/postgres.sh down

clean: infra-down ## Stop everything and remove local state (.local/)
	rm -rf .local
