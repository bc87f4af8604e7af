# make demo: create .venv, install, fit the default model to the embedded case.
# make test: create .venv if needed, run the test suite (slow statistical tests included).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# A Python >= 3.12: python3.12 (the version requirements.lock was pinned with) or a newer
# one on PATH, else one that pyenv holds.
PYTHON ?= $(shell \
  ok() { "$$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }; \
  for c in python3.12 python3.13 python3.14 python3; do \
    if ok "$$c"; then command -v "$$c"; exit 0; fi; done; \
  root=$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv"); \
  for c in $$(ls -d "$$root"/versions/3.1[2-9]* 2>/dev/null | sort -V); do \
    if ok "$$c/bin/python3"; then echo "$$c/bin/python3"; exit 0; fi; done)

.PHONY: demo test test-fast lock bench clean

$(STAMP): pyproject.toml requirements.lock
	@if [ -z "$(PYTHON)" ]; then \
	  echo "cargoinfer needs Python >= 3.12: install python3.12 (e.g. apt-get install python3.12-venv) or 'pyenv install 3.12'" >&2; exit 1; fi
	@echo "using $(PYTHON) ($$($(PYTHON) --version))"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@# uv installs the lock several times faster than pip (docs/speed.md) and writes no lock file
	@if $(BIN)/python -m pip install --quiet uv && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock; then :; \
	else $(BIN)/python -m pip install --quiet -r requirements.lock; fi
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/cargoinfer warm --default  # compile the default family in the worker later fits go to
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cargoinfer fit

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/fit_time.py

# Re-pin requirements.lock from the current venv (no download addresses recorded).
lock:
	$(BIN)/python -m pip freeze --exclude-editable --exclude cargoinfer --exclude uv | grep -v '^-e ' > requirements.lock

clean:
	rm -rf $(VENV) runs
