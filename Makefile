# The two commands of the README's quick start, and a few helpers.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint eval setup

setup:
	./scripts/setup.sh run

run: setup
	OCRD_DAEMON__DATA_DIR="$(CURDIR)/ocrd-data" $(VENV)/bin/ocrd run

# Two processes: one alone leaves a core idle while it waits on daemons, pip and podman.
# Groups of tests that share a build run in one process (tests/conftest.py).
TEST_PROCESSES ?= 2
test:
	./scripts/setup.sh test
	$(VENV)/bin/ruff check ocrd tests bench
	$(VENV)/bin/ruff format --check ocrd tests bench
	$(VENV)/bin/pytest -n $(TEST_PROCESSES) --dist loadscope --no-loadscope-reorder --durations=25 --junitxml=ci-artifacts/junit.xml

lint:
	$(VENV)/bin/ruff check ocrd tests bench
	$(VENV)/bin/ruff format --check ocrd tests bench

# The labelled sets dev/ and dev_pdf/, read in place; --check fails when a set misses its accuracy bars.
EVAL_DIR ?= ../shared/eval
eval:
	$(VENV)/bin/ocrd eval $(EVAL_DIR)/dev --check --jobs 2
	$(VENV)/bin/ocrd eval $(EVAL_DIR)/dev_pdf --check --jobs 2

# The invoice set fields_dev read with the fields stage on: the readable report (every wrong value)
# here, the JSON in bench/results/fields.json, and its table in docs/engine.md between its marker
# comments. Missed targets are listed in the table; the target itself does not fail on them.
.PHONY: eval-fields
FIELDS_REPORT ?= bench/results/fields.json
eval-fields:
	mkdir -p $(dir $(FIELDS_REPORT))
	$(VENV)/bin/ocrd eval $(EVAL_DIR)/fields_dev --report $(FIELDS_REPORT)
	$(PY) -m bench.fields_table $(FIELDS_REPORT) --doc docs/engine.md

# Every named model pack at fp32 and int8 on both sets: the table in docs/models.md (between its
# marker comments) and every reading in bench/results/packs.json. About 3 minutes on 2 idle cores.
.PHONY: eval-packs
eval-packs:
	$(PY) -m bench.packs --eval-dir $(EVAL_DIR) --doc docs/models.md --json bench/results/packs.json

# The wheel and sdist of this checkout: dist/ocrd_daemon-<version>-py3-none-any.whl (docs/install.md).
# The wheel is built from the sdist, so a file the sdist misses cannot slip into the wheel
# from a stale build/ folder. Earlier ocrd_daemon files in DIST are replaced; nothing else is touched.
.PHONY: dist
DIST ?= dist
dist: $(PY)
	$(PY) -m pip show --quiet build >/dev/null 2>&1 || $(PY) -m pip install -q 'build>=1.2'
	rm -f $(DIST)/ocrd_daemon-*.whl $(DIST)/ocrd_daemon-*.tar.gz
	$(PY) -m build --outdir $(DIST) .

# A fresh clone has no .venv yet: make it the way `make run` does.
$(PY):
	VENV=$(VENV) ./scripts/setup.sh run

# Offline wheelhouse for servers without internet: make wheelhouse ARCH=aarch64 [PYVER=3.11]
# (builds on any machine with internet; see deploy/wheelhouse.sh). It holds the wheel `make dist` builds.
.PHONY: wheelhouse
ARCH ?= $(shell uname -m)
PYVER ?= 3.11
wheelhouse: dist
	deploy/wheelhouse.sh --arch $(ARCH) --python $(PYVER) --python-bin $(PY) --wheel "$$(ls $(DIST)/ocrd_daemon-*.whl)"

# The container image localhost/ocrd:<version> and :latest (docs/container.md), from the offline
# wheelhouse: make image [BASE=offline|IMAGE] [ARCH=aarch64] [WHEELHOUSE=DIR]. BASE=offline first
# builds the base image from Debian packages (deploy/container/base-debian.sh) for machines that
# reach no registry. Extra options for `podman build`: CONTAINER_BUILD_OPTIONS="--runtime runc".
.PHONY: image
BASE ?= docker.io/library/python:3.11-slim-bookworm
WHEELHOUSE ?=
CONTAINER_ENGINE ?= podman
CONTAINER_BUILD_OPTIONS ?=
image:
	@if [ -z "$(WHEELHOUSE)" ]; then $(MAKE) --no-print-directory wheelhouse ARCH=$(ARCH) PYVER=3.11; fi
	CONTAINER_ENGINE=$(CONTAINER_ENGINE) deploy/container/build.sh --base "$(BASE)" --arch $(ARCH) \
		--wheelhouse "$(or $(WHEELHOUSE),dist/wheelhouse-$(ARCH)-py3.11)" \
		$(foreach option,$(CONTAINER_BUILD_OPTIONS),--build-option "$(option)")
