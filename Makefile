# The two commands of the README's quick start, and a few helpers.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint eval setup

setup:
	./scripts/setup.sh run

run: setup
	$(VENV)/bin/ocrd run

test:
	./scripts/setup.sh test
	$(VENV)/bin/ruff check ocrd tests bench
	$(VENV)/bin/ruff format --check ocrd tests bench
	$(VENV)/bin/pytest

lint:
	$(VENV)/bin/ruff check ocrd tests bench
	$(VENV)/bin/ruff format --check ocrd tests bench

eval:
	$(VENV)/bin/ocrd eval ../shared/eval/dev --check dev
	$(VENV)/bin/ocrd eval ../shared/eval/dev_pdf --check dev_pdf
