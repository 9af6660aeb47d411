# Two commands: `make run` (the product with a demo) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install services lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first and pinned: the CPU build comes from the local wheel; an unpinned torch
# (asked for by diffusers' extras, say) would pull gigabytes of CUDA packages.
$(STAMP): $(PY) requirements.txt pyproject.toml
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	bash scripts/run.sh

# The suite twice: PostgreSQL + Redis, then the embedded default (SQLite + filesystem broker).
test: install
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/ruff check .
	bash scripts/test.sh $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) -m bench

clean:
	rm -rf var staticfiles .pytest_cache
