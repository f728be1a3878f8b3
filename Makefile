# The two commands of the README's quick start, and a few helpers.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint eval setup

setup:
	./scripts/setup.sh run

run: setup
	OCRD_DAEMON__DATA_DIR="$(CURDIR)/ocrd-data" $(VENV)/bin/ocrd run

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

# Offline wheelhouse for servers without internet: make wheelhouse ARCH=aarch64 [PYVER=3.11]
# (builds on any machine with internet; see deploy/wheelhouse.sh).
.PHONY: wheelhouse
ARCH ?= $(shell uname -m)
PYVER ?= 3.11
wheelhouse:
	deploy/wheelhouse.sh --arch $(ARCH) --python $(PYVER) --python-bin "$$( [ -x $(PY) ] && echo $(PY) || echo python3 )"
