# Two commands on a fresh clone: `make run` (set up and run the main job, then serve the API)
# and `make test` (set up and run the test suite). `.ci/run` calls `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE_DIR ?= example_data
DB_URL ?= sqlite:///triage.db
MODEL_DIR ?= models/default

.PHONY: run test install model example clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

example: install
	$(BIN)/triage simulate --out $(EXAMPLE_DIR) --months 1 --claims-per-month 600 --seed 7

model: install
	@test -f $(MODEL_DIR)/bundle.json || $(BIN)/triage train --output $(MODEL_DIR) --no-mlflow

run: example model
	$(BIN)/triage run $(EXAMPLE_DIR)/claims $(EXAMPLE_DIR)/remittances $(EXAMPLE_DIR)/invoices --contracts $(EXAMPLE_DIR)/contracts.csv --db $(DB_URL) --as-of 2026-11-15
	$(BIN)/triage serve --db $(DB_URL)

test: install
	$(BIN)/pytest

clean:
	rm -rf $(EXAMPLE_DIR) triage.db triage.db-* mlruns mlflow.db .pytest_cache
