# Steadfast: the two commands are `make run` and `make test`. Both set themselves up on a machine that
# has only Python 3.11+ and make: a private uv (in .tools/) builds .venv from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run token test lint typecheck migrations-check pytest soak audit audit-online advisories format asyncapi assets clean

# Set-up output goes to stderr, so that `TOKEN=$$(make token)` captures the token alone.
$(UV):
	@echo "setting up uv $(UV_VERSION) in $(TOOLS)/" >&2
	@$(PYTHON) -m venv $(TOOLS) >&2
	@$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) >&2

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	@$(UV) sync --frozen --all-packages --python $(PYTHON) >&2
	@touch $@

setup: $(VENV)/.synced

## The whole system, embedded default: broker + every service on SQLite files under var/.
run: setup
	$(BIN)/python -m steadfast_shared.embedded.runner run

## A bearer token signed with the local key of `make run`: every scope, or `make token SCOPES="staff:read"`.
SCOPES ?=
token: setup
	@$(BIN)/python -m steadfast_shared.embedded.runner token --scopes "$(SCOPES)"

## The whole suite: lint, format check, types, migrations against PostgreSQL, pytest, then the
## dependency audit.
test: setup lint typecheck migrations-check pytest audit

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

migrations-check: setup
	$(BIN)/python -m steadfast_shared.db.check .

## The browser tests drive Debian's chromium: without it the suite stops with the install command.
pytest: setup
	@$(BIN)/python -m tools.browser_check
	$(BIN)/pytest

## The long runs of the fault tests and the OpenAPI fuzzing: every fault SOAK_ROUNDS times over the whole
## demo council, and 60 examples per operation (not part of `make test`).
SOAK_ROUNDS ?= 3
soak: setup
	STEADFAST_SOAK_ROUNDS=$(SOAK_ROUNDS) $(BIN)/pytest tests/faults tests/shared/test_openapi_fuzz.py

AUDIT_REQUIREMENTS := $(VENV)/audit-requirements.txt
# More pip-audit options: `make audit PIP_AUDIT_OPTIONS="--ignore-vuln ID"`.
PIP_AUDIT_OPTIONS ?=

$(AUDIT_REQUIREMENTS): $(VENV)/.synced
	@$(UV) export --frozen --all-packages --all-groups --no-emit-workspace --no-header --quiet -o $@

## Known vulnerabilities of every package pinned in uv.lock: pip-audit --strict, answered from the
## advisory snapshot in security/advisories/ (tools/dependency_audit.py); reads nothing outside the tree.
audit: setup $(AUDIT_REQUIREMENTS)
	$(BIN)/python -m tools.dependency_audit $(AUDIT_REQUIREMENTS) -- $(PIP_AUDIT_OPTIONS)

## The same audit against PyPI's live vulnerability data, where the network reaches it.
audit-online: setup $(AUDIT_REQUIREMENTS)
	$(BIN)/python -m tools.dependency_audit --online $(AUDIT_REQUIREMENTS) -- $(PIP_AUDIT_OPTIONS)

## Refresh the advisory snapshot from a checkout of https://github.com/pypa/advisory-database
## (`make advisories FROM=path`) or from GitHub's archive of it (network).
advisories: setup
	$(BIN)/python -m tools.advisories refresh $(if $(FROM),--from $(FROM),--from-url)

## Regenerate docs/asyncapi.json from the services' event registries (a test checks it is current).
asyncapi: setup
	$(BIN)/python -m steadfast_shared.events.asyncapi > docs/asyncapi.json

## Refresh the vendored front-end files (Swagger UI, ReDoc, GOV.UK Frontend, Chart.js, axe-core) from
## the npm packages pinned in tools/vendor_assets.py; needs Node.js and npm (nothing else does).
assets: setup
	$(BIN)/python -m tools.vendor_assets

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
