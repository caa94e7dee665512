# Steadfast: the two commands are `make run` and `make test`. Both set themselves up on a machine that
# has only Python 3.11+ and make: a private uv (in .tools/) builds .venv from uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run token test lint typecheck migrations-check pytest format asyncapi clean

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

## A bearer token with every scope, signed with the local key of `make run`.
token: setup
	@$(BIN)/python -m steadfast_shared.embedded.runner token

## The whole suite: lint, format check, types, migrations against PostgreSQL, then pytest.
test: setup lint typecheck migrations-check pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

migrations-check: setup
	$(BIN)/python -m steadfast_shared.db.check .

pytest: setup
	$(BIN)/pytest

## Regenerate docs/asyncapi.json from the services' event registries (a test checks it is current).
asyncapi: setup
	$(BIN)/python -m steadfast_shared.events.asyncapi > docs/asyncapi.json

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
