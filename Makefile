# Two commands do all set-up on a fresh machine:
#   make run   — venv + system packages, then the whole pipeline at the `default` profile
#   make test  — the same set-up, then the test suite (smoke profile through both engines)
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
APT_PACKAGES := dataset-fashion-mnist bible-kjv-text chromium fonts-wqy-microhei fonts-dejavu-core

.PHONY: run test venv system dag check bench clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	$(BIN)/pip install -qq -e '.[test]'
	touch $@

venv: $(BIN)/.installed

# Debian packages for the datasets and the report screenshot test. Needs root (or sudo);
# without it, `kexue check` names what is missing and the stages that need it say so.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: cannot install$$missing (not root, no sudo); see README"; fi; fi

run: venv system
	$(BIN)/python -m kexue check
	$(BIN)/python -c "from kexue.cli import set_profile; set_profile('default')"
	$(BIN)/snakemake -j2
	@echo "reports: $(CURDIR)/reports/index.html"

test: venv system
	$(BIN)/python -m pytest tests -q

dag: venv
	$(BIN)/python -m kexue dag

check: venv
	$(BIN)/python -m kexue check

bench: venv
	$(BIN)/python bench/overhead.py

clean:
	rm -rf data reports .snakemake .kexue-staging
