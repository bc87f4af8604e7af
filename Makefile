# make demo: create .venv, install what cargoinfer needs to run, fit the default model to
#   the embedded case.
# make test: create .venv if needed, install the test, docs and launcher tools as well, run
#   the test suite (slow statistical tests included).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# installed: the package and what it needs to run (requirements-run.lock); -dev: also the
# tools of the tests, the docs and the other sweep launchers (requirements.lock)
STAMP := $(VENV)/.installed
DEV := $(VENV)/.installed-dev

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

# uv installs a lock several times faster than pip (docs/speed.md) and writes no lock file;
# pip when uv cannot be installed
define install
	@if { [ -x $(BIN)/uv ] || $(BIN)/python -m pip install --quiet uv; } && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python $(1); then :; \
	else $(BIN)/python -m pip install --quiet $(1); fi
endef

$(STAMP): pyproject.toml requirements-run.lock
	@if [ -z "$(PYTHON)" ]; then \
	  echo "cargoinfer needs Python >= 3.12: install python3.12 (e.g. apt-get install python3.12-venv) or 'pyenv install 3.12'" >&2; exit 1; fi
	@echo "using $(PYTHON) ($$($(PYTHON) --version))"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(call install,-r requirements-run.lock)
	$(call install,--no-deps --no-build-isolation -e .)
	$(BIN)/cargoinfer warm --default  # compile the default family in the worker later fits go to
	@touch $(STAMP)

$(DEV): $(STAMP) requirements.lock
	$(call install,-r requirements.lock)
	@touch $(DEV)

demo: $(STAMP)
	$(BIN)/cargoinfer fit

# a worker per core (pytest-xdist): most tests are compiling a model on one core; worksteal
# evens out the slow statistical tests' unequal lengths
XDIST := -n auto --dist worksteal

test: $(DEV)
	$(BIN)/python -m pytest $(XDIST)

test-fast: $(DEV)
	$(BIN)/python -m pytest $(XDIST) -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/fit_time.py

# Re-pin requirements.lock from the current venv (make test's), and requirements-run.lock,
# the part of it the package needs to run (no download addresses recorded in either).
lock: $(DEV)
	$(BIN)/python -m pip freeze --exclude-editable --exclude cargoinfer --exclude uv | grep -v '^-e ' > requirements.lock
	echo setuptools | $(BIN)/uv pip compile pyproject.toml - -c requirements.lock --no-header \
	  --no-annotate --quiet -o requirements-run.lock

clean:
	rm -rf $(VENV) runs
