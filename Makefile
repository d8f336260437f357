# page-tracker task runner. `make help` lists the targets.
# Needs only python3 (3.11+), make and git: the first target that needs tools
# bootstraps .venv with a pinned uv and installs the locked dependencies.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
PT := $(BIN)/page-tracker
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
COVERAGE_FLOOR ?= 85
# pytest-xdist processes for `make test` (0 = one process). Each test file runs whole in
# one process; every process names its own databases, Redis keys and ports.
TEST_WORKERS ?= 2

export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
export UV_LINK_MODE := copy
# mkdocs-material announces MkDocs 2 on every build; that notice is no build problem.
export NO_MKDOCS_2_WARNING := 1

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	@touch $@

.PHONY: install
install: $(VENV)/.synced ## Create .venv and install the locked dependencies (idempotent)

.PHONY: lock
lock: $(UV) ## Re-resolve uv.lock and export constraints.txt for container builds
	$(UV) lock
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt --no-header -o constraints.txt --quiet

.PHONY: migrate
migrate: install ## Apply database migrations (DATABASE_URL or the embedded SQLite)
	$(PT) db upgrade

.PHONY: run
run: migrate ## Serve on http://$(HOST):$(PORT) with the embedded defaults
	$(PT) serve --host $(HOST) --port $(PORT)

CHROMIUM := /usr/bin/chromium

.PHONY: chromium
chromium: ## Install Debian's Chromium for the browser tests when it is missing (idempotent)
	@if [ ! -x $(CHROMIUM) ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; \
	fi
	@# A CJK font, so the Chinese dashboard's screenshots show characters, not boxes.
	@if command -v dpkg-query >/dev/null; then tools/apt-ensure.sh fonts-wqy-zenhei \
		|| echo "no CJK font installed: Chinese screenshots will show boxes" >&2; fi

# Debian's Redis, PostgreSQL and MariaDB servers: a test session starts private instances
# of them when the configured servers do not answer (a fresh machine; tests/private_servers.py),
# and some tests start a redis-server of their own (tests/services.py).
TEST_SERVER_PACKAGES := redis-server postgresql mariadb-server

.PHONY: test-servers
test-servers: ## Install Debian's Redis, PostgreSQL and MariaDB for the tests when missing (idempotent)
	@if command -v dpkg-query >/dev/null; then tools/apt-ensure.sh $(TEST_SERVER_PACKAGES); fi

.PHONY: vendor-js
vendor-js: ## Re-vendor busuanzi.pure.js and plausible-tracker from npm (pinned; review the diff)
	scripts/vendor-js.sh

.PHONY: test
test: install chromium test-servers ## Run the whole test suite (unit, integration, e2e, browser) with coverage
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile \
		--cov --cov-report=term --cov-report=xml \
		--cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

.PHONY: test-unit
test-unit: install ## Unit tests only (no network)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

.PHONY: test-integration
test-integration: install test-servers ## Integration tests against real Redis, MariaDB, PostgreSQL, SQLite
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

.PHONY: test-e2e
test-e2e: install test-servers ## End-to-end tests against a real `page-tracker serve` (or --flask-url)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

.PHONY: test-browser
test-browser: install chromium ## Browser tests in headless Chromium (Playwright, no browser download)
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff (lint + format check), codespell, no merge-conflict markers left
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/codespell
	@! git grep -n -E '^(<{7} |>{7} |={7}$$)' -- . ':!*.mo' || { echo "merge-conflict markers left (above)"; exit 1; }

.PHONY: fmt
fmt: install ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: typecheck
typecheck: install ## mypy --strict on src/ and tools/
	$(BIN)/mypy

.PHONY: arch
arch: install ## Architecture contracts (import-linter, pyproject.toml): layers, no import loops
	$(BIN)/lint-imports --no-cache --no-logo

.PHONY: security
security: install ## bandit static security scan
	$(BIN)/bandit -q -c pyproject.toml -r src tools

.PHONY: audit
audit: install ## pip-audit the locked dependencies
	$(UV) export --frozen --format requirements-txt --no-emit-project -o $(VENV)/audit-requirements.txt --quiet
	@# Not --strict: a package the vulnerability service cannot look up is reported as
	@# skipped (visible in the output) instead of failing; a known vulnerability fails.
	$(BIN)/pip-audit --disable-pip --no-deps --progress-spinner off -r $(VENV)/audit-requirements.txt

.PHONY: lock-check
lock-check: install ## uv.lock matches pyproject.toml and constraints.txt matches uv.lock
	$(UV) lock --check
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt --no-header --quiet \
		-o $(VENV)/constraints.expected.txt
	@cmp -s $(VENV)/constraints.expected.txt constraints.txt \
		|| { echo "constraints.txt is stale: run 'make lock' and commit it" >&2; exit 1; }

# Conventional Commits of a range (CI: the pushed range). Empty RANGE: origin/main..HEAD,
# or main..HEAD without an origin. The check starts after 8788b92 (scripts/commit-check.sh).
RANGE ?=

.PHONY: commit-check
commit-check: install ## Conventional Commits of RANGE=BASE..HEAD (default origin/main..HEAD) with commitizen
	scripts/commit-check.sh $(RANGE)

.PHONY: check
check: lint typecheck arch security lock-check audit ## Every quality gate (what CI runs besides the tests)

# CI definitions, checked offline: actionlint (expressions, needs, action inputs, and the
# run: scripts with shellcheck when it is installed) and check-jsonschema with the schemas
# bundled in the package (--builtin-schema: nothing is fetched).
GITHUB_WORKFLOWS := $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
COMPOSE_FILES := $(wildcard compose.yaml compose.*.yaml deploy/compose.yaml)

.PHONY: ci-lint
ci-lint: install ## Validate workflows, dependabot, .gitlab-ci.yml, compose files (offline)
	@# shellcheck lets actionlint check the run: scripts; installed from Debian where apt is.
	@if command -v dpkg-query >/dev/null; then tools/apt-ensure.sh shellcheck; fi
	$(BIN)/actionlint -pyflakes= -shellcheck="$$(command -v shellcheck || true)" $(GITHUB_WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(GITHUB_WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(if $(COMPOSE_FILES),$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec $(COMPOSE_FILES))

.PHONY: docs
docs: install ## Build the documentation site into site/ (mkdocs --strict)
	$(BIN)/mkdocs build --strict --site-dir site

.PHONY: docs-serve
docs-serve: install ## Serve the documentation with live reload on http://127.0.0.1:8001
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

.PHONY: clean
clean: ## Remove caches, build output and the virtual environment (keeps var/ data)
	rm -rf $(VENV) build dist site .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* coverage.xml htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- release: seed 003's docker.sh as `python -m tools.release` (README "Releasing") ---
DOCKER_OFFLINE ?= ../shared/tools/docker-offline
RELEASE := $(BIN)/python -m tools.release
CMD ?= --help

.PHONY: release
release: install ## Any release command: make release CMD=pipeline-all (CMD=--help lists them)
	$(RELEASE) $(CMD)

.PHONY: release-build
release-build: install ## Build the image with a unique tag and record it (.docker_build_*)
	$(RELEASE) build

.PHONY: release-pipeline
release-pipeline: install ## Build if needed, push to DOCKER_REGISTRY, tag and push latest
	$(RELEASE) pipeline

.PHONY: release-pipeline-prod
release-pipeline-prod: install ## Promote the recorded build to DOCKER_REGISTRY_PROD (+ latest)
	$(RELEASE) pipeline-prod

.PHONY: test-release
test-release: install ## Release tool tests: docker-offline engine + two local registries
	tools/apt-ensure.sh docker-registry
	$(DOCKER_OFFLINE)/up.sh debian
	source $(DOCKER_OFFLINE)/env.sh && PT_RELEASE_TESTS=1 \
		$(BIN)/python -m pytest tests/release -p no:cacheprovider $(PYTEST_ARGS)

# --- deploy (seed 004): `python -m tools.deploy`, README "Deploying" ---------------------
ENV ?= staging
DEPLOY := $(BIN)/python -m tools.deploy --env $(ENV)

.PHONY: wheel
wheel: install ## Build the wheel (and sdist) into dist/ with uv build
	$(UV) build --out-dir dist

.PHONY: deploy
deploy: install ## Build the wheel and deploy it over SSH: make deploy ENV=staging|production
	$(DEPLOY) deploy

.PHONY: deploy-rollback
deploy-rollback: install ## Switch ENV back to its previous release and restart
	$(DEPLOY) rollback

.PHONY: deploy-start
deploy-start: install ## Start supervisord: the web server + Celery of ENV's current release
	$(DEPLOY) start

.PHONY: deploy-stop
deploy-stop: install ## Stop them on ENV's host
	$(DEPLOY) stop

.PHONY: deploy-restart
deploy-restart: install ## Stop, then start on ENV's host
	$(DEPLOY) restart

.PHONY: deploy-status
deploy-status: install ## Current/previous release and program states on ENV's host
	$(DEPLOY) status

.PHONY: deploy-releases
deploy-releases: install ## List the releases installed on ENV's host
	$(DEPLOY) releases

.PHONY: deploy-compose
deploy-compose: install ## Compose deploy: pull REGISTRY/page-tracker:VERSION, up -d, health check, roll back on failure
	$(DEPLOY) compose-deploy

.PHONY: test-deploy
test-deploy: install ## Deploy tests: a real sshd on 127.0.0.1 (+ docker-offline for the compose deploy)
	tools/apt-ensure.sh openssh-server openssh-client python3-venv docker-registry
	$(DOCKER_OFFLINE)/up.sh debian
	source $(DOCKER_OFFLINE)/env.sh && PT_DEPLOY_TESTS=1 \
		$(BIN)/python -m pytest tests/deploy -p no:cacheprovider $(PYTEST_ARGS)

# --- hit enrichment (src/page_tracker/enrich) ---------------------------------------
.PHONY: update-enrich-data
update-enrich-data: $(UV) ## Lock the newest bundled UA rules, crawler list and IP-to-country table
	$(UV) lock --upgrade-package ua-parser-builtins --upgrade-package crawler-user-agents \
		--upgrade-package iptocc
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt --no-header -o constraints.txt --quiet

.PHONY: bench-enrich
bench-enrich: install ## Per-call cost of hit enrichment (timeit; not a test)
	$(BIN)/python bench/enrich_timing.py

# --- containers: Dockerfile, compose.yaml (README "Docker") --------------------------
.PHONY: stack-test
stack-test: ## Image build + Compose `testing` profile + operator checks (docker-offline engine)
	DOCKER_OFFLINE=$(DOCKER_OFFLINE) scripts/stack-test.sh

.PHONY: test-fresh-machine
test-fresh-machine: ## make test in a bare python:3.11 container: no services, no Chromium (docker-offline engine)
	DOCKER_OFFLINE=$(DOCKER_OFFLINE) scripts/fresh-machine-test.sh $(if $(PYTEST_ARGS),PYTEST_ARGS="$(PYTEST_ARGS)")

# --- ingest benchmark (bench/README.md) ----------------------------------------------
BENCH_ARGS ?=

.PHONY: bench
bench: install ## Ingest benchmark: wrk vs nginx 204, embedded and Redis mode, flush (not a test)
	tools/apt-ensure.sh wrk nginx redis-server
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

.PHONY: bench-ingest-cpu
bench-ingest-cpu: install ## CPU seconds per accepted hit in-process (--mode embedded|redis; for A/B on a busy machine)
	$(BIN)/python -m bench.ingest_cpu $(BENCH_ARGS)

.PHONY: bench-read-cpu
bench-read-cpu: install ## CPU per request of Busuanzi, count.gif, counters JSON, badge in-process (--mode embedded|redis; for A/B)
	$(BIN)/python -m bench.read_cpu $(BENCH_ARGS)

.PHONY: bench-stats
bench-stats: install ## Stats API reads of a year of a busy site (20 000 pages) on PostgreSQL and MariaDB
	$(BIN)/python -m bench.stats $(BENCH_ARGS)

.PHONY: bench-read-cache
bench-read-cache: install ## Public counter reads per second without cache, as before, through the read cache
	$(BIN)/python -m bench.read_cache $(BENCH_ARGS)

.PHONY: bench-import
bench-import: install ## Import a generated GoatCounter export (1 M rows) into SQLite (not a test)
	$(BIN)/python -m bench.imports $(BENCH_ARGS)

.PHONY: bench-redis-memory
bench-redis-memory: install ## Redis bytes per pending hit and per visitor key (sizing maxmemory)
	tools/apt-ensure.sh redis-server
	$(BIN)/python -m bench.redis_memory $(BENCH_ARGS)

.PHONY: bench-flush
bench-flush: install ## Flush rate into MariaDB/PostgreSQL with 0, 1 M and 10 M rolled-up hits stored
	tools/apt-ensure.sh redis-server
	$(BIN)/python -m bench.flush --databases postgresql --preload 0,1000000,10000000 $(BENCH_ARGS)
	$(BIN)/python -m bench.flush --databases mariadb --preload 0,1000000 $(BENCH_ARGS)

# --- dashboard languages (src/page_tracker/dashboard/translations, babel.cfg) ---------
TRANSLATIONS := src/page_tracker/dashboard/translations

.PHONY: translations
translations: install ## Extract the dashboard's text, update the catalogs, compile them (commit all)
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --sort-output --omit-header \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics
