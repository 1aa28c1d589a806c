# chartvault: two commands. `make run` opens the app, `make test` runs the checks.
# Both create .venv and install what is missing (idempotent `make setup`).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-done
# The CPU build of PyTorch that lies on this machine kind's disk; a loose
# requirement would pull a multi-GB CUDA build from the registry.
TORCH  := torch==2.13.0

.PHONY: setup run demo test test-all lint typecheck bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: setup
	HF_HUB_OFFLINE=1 $(BIN)/chartvault $(ARGS)

# A demo vault (fictional records, demo-only passphrases printed) at the default location or ARGS="--vault DIR".
demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/chartvault demo $(ARGS)

lint: setup
	$(BIN)/ruff check archive vault indexer tui tests bench docs

typecheck: setup
	$(BIN)/mypy vault archive indexer tui

test: lint typecheck
	HF_HUB_OFFLINE=1 $(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

test-all: lint typecheck
	HF_HUB_OFFLINE=1 $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
