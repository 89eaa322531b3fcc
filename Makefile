# NOF live: every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PY := .venv/bin/python
PYTEST := $(PY) -m pytest
LOCAL := deploy/local

.PHONY: help install run up infra down status logs test test-unit test-fuzz test-integration test-e2e test-faults \
        soak lint bench bench-engine bench-pipeline bench-publisher lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

install: ## install Python deps (locked), Kafka jars, redis-server and chromium
	@bash $(LOCAL)/install.sh --browser

run: install up ## install everything, start the stack, load the demo data, print where to look
	@bash $(LOCAL)/demo.sh start
	@bash $(LOCAL)/welcome.sh

up: ## start Kafka, Redis, declare topics, start the three services
	@bash $(LOCAL)/stack.sh up

infra: ## start only Kafka and Redis and declare topics
	@bash $(LOCAL)/stack.sh infra

down: ## stop everything the stack started
	@bash $(LOCAL)/stack.sh down

status: ## health of Kafka, Redis and every service
	@bash $(LOCAL)/stack.sh status

logs: ## the last log lines of every component
	@bash $(LOCAL)/stack.sh logs

test: install ## every test tier: lint, unit, fuzz, integration, faults, e2e (starts what they need)
	@bash $(LOCAL)/test.sh

test-unit: ## unit tier only (no network)
	@$(PYTEST) tests/unit -q

test-fuzz: ## fuzz tier: bad input against the HTTP APIs, in-process (no network)
	@$(PYTEST) tests/fuzz -q -m fuzz

test-integration: infra ## integration tier (real Kafka and Redis)
	@$(PYTEST) tests/integration -q -m integration

test-faults: infra ## fault tier: scorer, publisher and broker killed mid-stream, Redis flushed, webhook receiver failing
	@$(PYTEST) tests/faults -q -m faults

test-e2e: up ## end-to-end tier against the running stack
	@$(PYTEST) tests/e2e -q -m e2e

KILLS ?= 20
soak: infra ## SIGKILL the scorer KILLS times (default 20) mid-stream under CPU load; tables, events and progress checked
	@source $(LOCAL)/env.sh && KILLS=$(KILLS) $(PY) -m tests.soak

lint: ## architecture contracts (the methodology core stays pure)
	@.venv/bin/lint-imports

bench: bench-engine bench-pipeline bench-publisher ## every benchmark; numbers go to docs/BENCHMARKS.md

bench-engine: install ## methodology engine: incremental vs batch recompute
	@$(PY) -m bench.engine

bench-pipeline: install infra ## HTTP -> Kafka -> scoring -> Redis throughput and latency
	@$(PY) -m bench.pipeline

bench-publisher: install infra ## SSE and webhook fan-out latency
	@$(PY) -m bench.publisher

lock: ## regenerate requirements.lock from a clean resolve of pyproject.toml
	@rm -rf .lockenv && python3 -m venv .lockenv && .lockenv/bin/pip install -q -e '.[test]' \
	  && { echo '# Exact versions for every install (pip install -c requirements.lock). Regenerate with `make lock`.'; \
	       .lockenv/bin/pip freeze --exclude-editable; } > requirements.lock && rm -rf .lockenv

clean: down ## stop the stack and delete local state (.local) and the virtual environment
	rm -rf .local .venv
