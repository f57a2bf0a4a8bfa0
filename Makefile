# mfa_onboarding.iam: `make demo` runs the main job on a local moto server, `make test` runs every check.
# Both build what they need by themselves: a virtualenv in .venv from requirements/, and the collection laid out
# as build/collections/ansible_collections/mfa_onboarding/iam beside amazon.aws and community.general (taken from
# the `ansible` PyPI package, since Galaxy is not reachable).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
BUILD := $(abspath build)
COLLECTIONS := $(BUILD)/collections
COLL := $(COLLECTIONS)/ansible_collections/mfa_onboarding/iam
AMAZON := $(COLLECTIONS)/ansible_collections/amazon/aws
# ansible-test keeps its venvs and its pip bootstrap script below $HOME/.ansible/test: keep them in build/.
TEST_HOME := $(BUILD)/home

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export NO_COLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv layout lint ruff yamllint ansible-lint sanity units security integration suites lint-sanity molecule-lane molecule docs-lint docs \
	galaxy-import test demo bench clean

help:
	@echo "make demo    run the main job against a local moto server"
	@echo "make test    lint, ansible-test sanity, molecule scenarios and unit tests"
	@echo "make docs    build the HTML reference into build/docs/html"
	@echo "make bench   onboard 10 and 100 users, report on 1,000, offboard 100, with the roles and with amazon.aws modules (~50 min)"
	@echo "make clean   remove build/ (keeps .venv)"

$(VENV)/.installed: requirements/runtime.txt requirements/awx.txt requirements/docs.txt requirements/test.txt
	@echo "== creating $(VENV) from requirements/test.txt (log: build/pip.log)"
	@mkdir -p $(BUILD)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -r requirements/test.txt > $(BUILD)/pip.log 2>&1 \
		|| { tail -n 30 $(BUILD)/pip.log; exit 1; }
	@touch $@

venv: $(VENV)/.installed

IMPORTER_VENV := $(BUILD)/importer-venv

# galaxy-importer pins versions that clash with .venv (attrs < 24, flake8...): a venv of its own.
$(IMPORTER_VENV)/.installed: requirements/importer.txt
	@echo "== creating $(IMPORTER_VENV) from requirements/importer.txt (log: build/importer-pip.log)"
	@mkdir -p $(BUILD)
	@test -x $(IMPORTER_VENV)/bin/python || $(PYTHON) -m venv $(IMPORTER_VENV)
	@$(IMPORTER_VENV)/bin/python -m pip install -r requirements/importer.txt > $(BUILD)/importer-pip.log 2>&1 \
		|| { tail -n 30 $(BUILD)/importer-pip.log; exit 1; }
	@touch $@

# The collection as ansible-test and ansible-lint need it: a copy of the files git knows (tracked or not
# ignored), with amazon.aws and community.general as siblings.
# LAID_OUT=1 (set by `make test` for its lanes) uses the copy made at the start instead of making it again.
layout: venv
ifndef LAID_OUT
	@# ansible-test keeps its venvs in tests/output: carry them over to the fresh copy.
	@rm -rf $(BUILD)/tests-output && if [ -d $(COLL)/tests/output ]; then mv $(COLL)/tests/output $(BUILD)/tests-output; fi
	@rm -rf $(COLL)
	@mkdir -p $(COLL)/tests $(dir $(AMAZON))
	@if [ -d $(BUILD)/tests-output ]; then mv $(BUILD)/tests-output $(COLL)/tests/output; fi
	@git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(COLL)
	@ln -sfn "$$($(BIN)/python tools/collection_path.py amazon.aws)" $(AMAZON)
	@mkdir -p $(COLLECTIONS)/ansible_collections/community
	@ln -sfn "$$($(BIN)/python tools/collection_path.py community.general)" $(COLLECTIONS)/ansible_collections/community/general
	@# The copy sits inside this repository's ignored build/: give it a git index of its own, or ansible-test
	@# asks this repository which files exist and sees none.
	@git -C $(COLL) init -q && git -C $(COLL) add -A
endif

ruff: venv
	ruff check .
	ruff format --check .

yamllint: venv
	yamllint --strict .

ansible-lint: layout
	cd $(COLL) && ansible-lint --offline

sanity: layout
	@mkdir -p $(TEST_HOME)/.ansible/test/cache
	@cp tools/get_pip_offline.py $(TEST_HOME)/.ansible/test/cache/get_pip_24_2.py
	cd $(COLL) && HOME=$(TEST_HOME) ansible-test sanity --venv --python 3.11 --color no

# pytest as the test targets run it: botocore's data files parsed once per process (tests/support/botocore_models.py).
PYTEST := python -m pytest -p no:cacheprovider -p ansible_collections.mfa_onboarding.iam.tests.support.botocore_models

units: layout
	cd $(COLL) && PYTHONPATH=$(COLLECTIONS) $(PYTEST) tests/unit -n auto

# The security invariants, tried rather than assumed (DESIGN.md section 1): faults at every call, throttling,
# bad input, secret scans, least privilege, policy semantics. Each suite starts its own servers on loopback.
security: layout
	cd $(COLL) && PYTHONPATH=$(COLLECTIONS) $(PYTEST) tests/security -n auto

# The module and role documentation, as antsibull-docs reads it (catches bad M()/O() references). antsibull-docs
# copies amazon.aws with `git ls-files` when git says it sits in a work tree, and .venv sits in this (ignored) one:
# the ceiling keeps git from looking above the checkout, so the dependency is copied whole. The second ceiling is the
# checkout that .venv really sits in, when .venv is a symbolic link to another checkout's (a shared venv).
docs-lint: layout
	cd $(COLL) && GIT_CEILING_DIRECTORIES=$(CURDIR):$(realpath $(VENV)/..) antsibull-docs lint-collection-docs --plugin-docs .

# The HTML reference of the modules and roles: build/docs/html/index.html.
docs: layout
	python tools/docs_build.py

# Build the Galaxy tarball and run galaxy-importer's checks on it (not in `make test` yet: the importer requires a
# `repository` URL in galaxy.yml, which this project does not have yet).
galaxy-import: layout $(IMPORTER_VENV)/.installed
	python tools/galaxy_import.py --collection $(COLL) --importer-python $(IMPORTER_VENV)/bin/python

# How the collection fits its ecosystem: the action group with amazon.aws, AWX-style runs, the execution environment.
integration: layout
	cd $(COLL) && PYTHONPATH=$(COLLECTIONS) $(PYTEST) tests/integration -n auto

# End to end on the control node: each scenario (extensions/molecule/) starts and stops its own moto server. The
# scenarios' scripts import tests/support (their tasks also set PYTHONPATH themselves, from where they run).
molecule: layout
	cd $(COLL) && PYTHONPATH=$(COLLECTIONS) molecule test --all

lint: ruff yamllint ansible-lint docs-lint

# The three pytest suites in one run, one pool of workers for all: a worker done with its share of one suite takes
# the next test instead of idling until the other has finished that suite's slowest test; the security suites come
# first, so that their long tests start early, and the many short unit tests fill the end.
suites: layout
	@$(call timed,cd $(COLL) && PYTHONPATH=$(COLLECTIONS) $(PYTEST) tests/security tests/integration tests/unit -n auto --durations=25,suites)

# A command, then how long it took (the lanes of `make test` print their output when they are done).
timed = start=$$(date +%s); $(1); echo "== $(2): $$(( $$(date +%s) - start )) s"

# The lanes of `make test` that run one process at a time: lint then sanity, and molecule.
lint-sanity:
	@$(call timed,$(MAKE) --no-print-directory lint,make lint)
	@$(call timed,$(MAKE) --no-print-directory sanity,make sanity)

molecule-lane:
	@$(call timed,$(MAKE) --no-print-directory molecule,make molecule)

# Every check: the collection laid out once, then three lanes side by side (make -j3): the pytest suites, which
# keep every core busy, beside lint and sanity, and molecule, which run one process at a time and also wait on pip
# and on their servers. Each lane's output is shown when it is done; a failure in one lane lets the others finish.
test: layout
	@$(call timed,$(MAKE) --no-print-directory -j3 --output-sync=recurse LAID_OUT=1 suites lint-sanity molecule-lane,make test)

# The demo and the bench import the test support package (moto server, first sign-in) from the collection copy.
demo: layout
	PYTHONPATH=$(COLLECTIONS) python tools/demo.py

# Wall-clock figures for onboarding and promoting 10 and 100 users (not part of `make test`).
bench: layout
	PYTHONPATH=$(COLLECTIONS) python tools/bench.py --repeat 3 10 100 --status 1000 --pending 50 --offboard 100

clean:
	rm -rf build tests/output
