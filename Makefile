# Test and bootstrap harness for the anycast.fabric collection.
# `make test` (what .ci/run does) must work on a fresh Debian 12 machine with
# only PyPI and the Debian archive reachable, and be quick on a prepared one.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Steps share the venv and are heavy: never run them concurrently, even under -j.
.NOTPARALLEL:

PYTHON       ?= python3.11
PYTHON_VERSION := 3.11
VENV         := $(CURDIR)/.venv
BIN          := $(VENV)/bin
BUILD        := $(CURDIR)/.build
REQUIREMENTS := requirements-dev.txt
# Copy of the requirements last installed: setup reinstalls when they differ.
REQ_STAMP    := $(VENV)/.requirements-dev.installed

# shellcheck: without it ansible-test skips its shellcheck sanity test (warning only).
# graphviz: its dot lays out anycast.fabric.document's topology.svg (unit tests, make golden-docs).
# nftables: the zero-reset drain's tables, tested on the real kernel in a network namespace (unit tests).
APT_PACKAGES := bird2 frr gobgpd python3-venv python3-pyroute2 python3-prometheus-client python3-systemd git rsync shellcheck graphviz nftables

# Collections "farm": ansible_collections/anycast/fabric -> this checkout, so
# Ansible and Python resolve anycast.fabric straight from the work tree.
COLLECTIONS_DIR := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/anycast/fabric
SANITY_DIR      := $(BUILD)/sanity/ansible_collections/anycast/fabric

# ansible-test looks for ~/.ansible/test/cache/get_pip_<pip version, dots as
# underscores>.py before downloading get-pip from a host we cannot reach.
GET_PIP_CACHE := $(HOME)/.ansible/test/cache

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0

.PHONY: help setup apt venv collections get-pip lint typecheck sanity unit lab-image integration bench-vips docs-lint changelog-lint build-test test clean golden
.PHONY: molecule lab lab-global lab-destroy molecule-ipvs bench-ipvs bench-failover ee-check plan
.PHONY: galaxy-import bench-scale bench-weighted

help:
	@echo "Targets:"
	@echo "  setup           install Debian packages, .venv, collections farm, get-pip stand-in"
	@echo "  lint            yamllint, ansible-lint (production profile), ruff"
	@echo "  typecheck       mypy, strict on the modules mypy.ini lists"
	@echo "  sanity          ansible-test sanity on a clean copy of the collection"
	@echo "  unit            pytest over tests/unit (no containers)"
	@echo "  integration     pytest over tests/integration: playbooks, modules on a real kernel, BIRD/FRR in containers"
	@echo "  molecule        molecule test -s default, dualstack, failover, global, longlived: the lab fabric converged, idempotent, verified;"
	@echo "                  failover also kills services and agents, freezes a node, drains and undrains a rack;"
	@echo "                  global: two sites, nearest-site routing, site failure and drain, pod reachability;"
	@echo "                  longlived: 200 long-lived connections through drain/undrain/failure, 0 collateral resets (resilient ECMP)"
	@echo "  bench-vips      loopback_vip benchmark (writes benchmarks/results/loopback_vip.*)"
	@echo "  molecule-ipvs   molecule test -s ipvs: the ipvs role and module in a QEMU VM with Debian's kernel"
	@echo "  bench-ipvs      ipvs module benchmark, 1,000 services (writes benchmarks/results/ipvs.*)"
	@echo "  bench-failover  failover benchmark on the lab, 5 reps per event (writes benchmarks/results/failover.*)"
	@echo "  bench-weighted  weighted anycast on the lab: each node's share of new connections, weighting on and off"
	@echo "                  (writes benchmarks/results/weighted.*), and a weight change under long-lived connections"
	@echo "  bench-scale     controller-side cost against fabric size, 100-5,000 nodes (writes benchmarks/results/scale.*;"
	@echo "                  BENCH_SCALE_ARGS='--sizes 100,500 --reps 1' for a quick run)"
	@echo "  ee-check        ansible-builder create: the execution environment's requirements resolve"
	@echo "  plan            anycast.fabric.plan of the lab (make lab first) into .build/plan (scripts/plan.sh: 0/2/1)"
	@echo "  docs-lint       antsibull-docs lint of every module, plugin and role doc"
	@echo "  changelog-lint  antsibull-changelog lint"
	@echo "  build-test      build + install the tarball, run anycast.fabric.render from it"
	@echo "  galaxy-import   galaxy-importer (Galaxy's upload checks) on the tarball, offline: no error, no warning"
	@echo "  test            all of the above, in that order (what .ci/run runs)"
	@echo "  golden          re-render inventories/example and inventories/dynamic into tests/golden/ (review the diff!)"
	@echo "  golden-docs     re-document inventories/example into tests/golden/docs (review the diff!)"
	@echo "  clean           remove .build (keeps .venv)"
	@echo "  lab             bring up the lab fabric in containers and keep it (DUAL_STACK=1: dual-stack); lab-destroy removes it"
	@echo "  lab-global      bring up the two-site lab (two sites, transit routers, a client per site) and keep it"

# ---------------------------------------------------------------- setup
setup: apt venv collections get-pip

apt:
	@scripts/ensure-apt-packages.sh $(APT_PACKAGES)

# Reinstall when the requirements' content changed (not just their mtime, which
# every fresh clone resets), or when the venv's interpreter is gone or broken.
venv:
	@if ! $(BIN)/python -c 'import sys' >/dev/null 2>&1; then \
	    echo "setup: creating $(VENV)"; \
	    rm -rf $(VENV); \
	    $(PYTHON) -m venv $(VENV); \
	fi
	@if ! cmp -s $(REQUIREMENTS) $(REQ_STAMP); then \
	    echo "setup: installing $(REQUIREMENTS) into $(VENV)"; \
	    $(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS); \
	    cp $(REQUIREMENTS) $(REQ_STAMP); \
	fi

collections:
	@if [ "$$(readlink $(COLLECTION_LINK) 2>/dev/null)" != "$(CURDIR)" ]; then \
	    mkdir -p $(dir $(COLLECTION_LINK)); \
	    ln -sfn $(CURDIR) $(COLLECTION_LINK); \
	    echo "setup: linked $(COLLECTION_LINK) -> $(CURDIR)"; \
	fi

# The pip version comes from the installed ansible-test, so an ansible-core
# upgrade that moves to another pip gets a stand-in under the new name. The
# stand-in's pip wheel is downloaded here by the venv's pip, which reads this
# machine's pip configuration: the repository names no package index.
get-pip: venv
	@ver=$$(sed -n "s/^ *pip='\([0-9.]*\)',\$$/\1/p" \
	    $(VENV)/lib/python$(PYTHON_VERSION)/site-packages/ansible_test/_internal/python_requirements.py); \
	if [ -z "$$ver" ]; then echo "setup: cannot find ansible-test's pip version" >&2; exit 1; fi; \
	target=$(GET_PIP_CACHE)/get_pip_$${ver//./_}.py; \
	if ! cmp -s scripts/get_pip_standin.py "$$target"; then \
	    mkdir -p $(GET_PIP_CACHE); \
	    cp scripts/get_pip_standin.py "$$target"; \
	    echo "setup: installed get-pip stand-in $$target"; \
	fi; \
	wheels=$(GET_PIP_CACHE)/get_pip_wheels; \
	if [ ! -f "$$wheels/pip-$$ver-py3-none-any.whl" ]; then \
	    $(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	        --dest "$$wheels" "pip==$$ver"; \
	    echo "setup: downloaded pip $$ver for the get-pip stand-in into $$wheels"; \
	fi

# ---------------------------------------------------------------- checks
# All three linters run even when one fails, so one run shows every finding.
lint: setup
	@rc=0; \
	echo "== yamllint"; yamllint -c .yamllint --strict . || rc=1; \
	echo "== ansible-lint"; ansible-lint -c .ansible-lint || rc=1; \
	echo "== ruff"; ruff check . || rc=1; \
	exit $$rc

# mypy runs from the collections farm, where every module has its real name
# (ansible_collections.anycast.fabric...); mypy.ini lists the strict set.
typecheck: setup
	cd $(COLLECTIONS_DIR) && mypy --config-file $(CURDIR)/mypy.ini

sanity: setup
	scripts/sync-sanity-tree.sh $(SANITY_DIR)
	cd $(SANITY_DIR) && ansible-test sanity --venv --python $(PYTHON_VERSION) --color no

unit: setup
	PYTHONPATH=$(COLLECTIONS_DIR) pytest tests/unit

# Real daemons in containers: the Docker engine is started and the lab image
# built (once, then cached by recipe hash) before the tests run.
lab-image: setup
	lab/docker-up.sh
	lab/build-image.sh

integration: setup lab-image
	PYTHONPATH=$(COLLECTIONS_DIR) FABRIC_DOCKER_TESTS=1 pytest tests/integration

bench-vips: setup
	python benchmarks/loopback_vip.py --count 1000

# IPVS needs a real distribution kernel (this machine's has none): the ipvs
# scenario boots Debian's cloud kernel in QEMU and reaches it over SSH.
molecule-ipvs: setup
	@start=$$SECONDS; molecule test -s ipvs; echo "molecule: scenario ipvs passed in $$((SECONDS - start)) s"

bench-ipvs: setup
	python benchmarks/ipvs.py --count 1000

# Every module, plugin and role documents itself: ansible-doc must render
# them and antsibull-docs must find nothing wrong in the markup. The guides
# reach the docs site as docs/docsite/rst/*.rst, generated from docs/*.md by
# scripts/docs-rst.py: they must be in step (run it without --check to update).
docs-lint: setup
	python scripts/data-model.py --check
	python scripts/docs-rst.py --check
	cd $(COLLECTION_LINK) && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs .

ee-check: setup
	scripts/ee-check.sh

changelog-lint: setup
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

build-test: setup
	scripts/build-test.sh

# The checks Galaxy runs on every upload (galaxy-importer), offline: no
# container, no ansible-test; any ERROR or WARNING fails (log and result in
# .build/galaxy-import).
galaxy-import: setup
	scripts/galaxy-import.sh

test: setup lint typecheck sanity unit integration molecule molecule-ipvs docs-lint changelog-lint build-test galaxy-import ee-check

# ---------------------------------------------------------------- lab fabric (molecule)
# One topology (.config/molecule/config.yml: spine, two ToRs, four nodes, a
# client, one Docker network per segment) and three scenarios: molecule/default
# (IPv4), molecule/dualstack and molecule/failover (health-checked VIPs,
# failures and drains). They use the same container names, so only one of
# them can be up at a time. molecule/global is the two-site lab, with its own
# topology, containers and networks. molecule/longlived is the shared topology
# plus a fifth node (same container names) with resilient ECMP on the routers.
MOLECULE_SCENARIOS := default dualstack failover global longlived
LAB_SCENARIO       ?= $(if $(filter 1,$(DUAL_STACK)),dualstack,default)
# How many instances of scenario $$s molecule's state records as created.
MOLECULE_CREATED   := molecule list -s $$s -f plain 2>/dev/null | awk '$$5 == "true"' | wc -l

# Full runs: destroy, create, prepare, converge, idempotence (zero changes),
# verify (BGP state and HTTP traffic to the VIPs), destroy.
# Scenario default runs the collection as users get it: built, installed
# from the tarball into a directory outside the repo, first on the
# collections path (FABRIC_COLLECTIONS_PATH, see .config/molecule/config.yml).
molecule: setup lab-image
	@installed=$$(mktemp -d "$${TMPDIR:-/tmp}/anycast-installed.XXXXXX"); \
	trap 'rm -rf "$$installed"' EXIT; \
	scripts/install-built.sh "$$installed"; \
	for s in $(MOLECULE_SCENARIOS); do \
	    start=$$SECONDS; log="$$installed/molecule-$$s.log"; \
	    collections=$$( [[ $$s == default ]] && echo "$$installed" || true ); \
	    if ! FABRIC_COLLECTIONS_PATH=$$collections molecule test -s $$s 2>&1 | tee "$$log"; then \
	        scripts/failed-tasks.sh "$$log" "molecule scenario $$s"; \
	        exit 2; \
	    fi; \
	    echo "molecule: scenario $$s passed in $$((SECONDS - start)) s"; \
	done

# Brings scenario $(1)'s instances up and converged. Molecule only knows its
# own state file, so first destroy what would mislead it: another scenario's
# instances (same names) and a scenario recorded as created whose containers
# are gone (another scenario's `molecule test` removed them).
define lab_up
	@for s in $(MOLECULE_SCENARIOS); do \
	    created=$$($(MOLECULE_CREATED)); \
	    running=$$(docker ps -q --filter label=anycast-fabric.lab=1 --filter label=owner=molecule | wc -l); \
	    if ((created > 0)) && { [[ $$s != $(1) ]] || ((running < created)); }; then \
	        echo "lab: destroying the instances of scenario $$s first"; \
	        molecule destroy -s $$s; \
	    fi; \
	done
	molecule create -s $(1)
	molecule converge -s $(1)
endef

# Keeps the instances: run it again to re-converge and re-verify.
lab: lab-image
	$(call lab_up,$(LAB_SCENARIO))
	molecule verify -s $(LAB_SCENARIO)
	python lab/summary.py

# The plan of the lab's inventory against the running lab (make lab first).
# scripts/plan.sh exits 0 (no changes), 2 (changes) or 1 (error); make turns
# any failure into its own status 2, so pipelines call the script directly.
plan: setup
	scripts/plan.sh

# The two-site lab (scenario global: two sites, their upstream "transit"
# routers, a client near each site), kept: run it again to re-converge and
# re-verify.
lab-global: lab-image
	$(call lab_up,global)
	molecule verify -s global

# The model, the renderer, the render playbook, a no-op play (Ansible's own
# floor), one rack under --limit and site.yml's controller-side skeleton, over
# generated fabrics of 100 to 5,000 nodes (tests/shapes.py). Heavy: the no-op
# play alone takes minutes at 5,000 nodes (see --noop-max-nodes).
BENCH_SCALE_ARGS ?=
bench-scale: setup
	python benchmarks/scale.py $(BENCH_SCALE_ARGS)

# The lab with health-checked VIPs (scenario failover), then every failure
# and drain event, five times each, with a client probing every 10 ms; then
# the two-site lab for the site failure and site drain rows; then 200
# long-lived connections through ECMP changes, plain and resilient (scenario
# longlived, benchmarks/results/longlived.*).
bench-failover: lab-image
	$(call lab_up,failover)
	python benchmarks/failover.py --reps 5
	$(call lab_up,global)
	python benchmarks/failover.py --reps 5 --lab global
	$(call lab_up,longlived)
	python benchmarks/failover.py --reps 5 --lab longlived

# Weighted anycast (issue 25): each node's share of 20,000 new connections to
# the VIP per row, weighted ECMP on and off (scenario longlived,
# benchmarks/results/weighted.*); then n3's weight changed 2 -> 1 by a site
# run under 200 long-lived connections (the ll-weight-change/resilient row of
# benchmarks/results/longlived.*).
bench-weighted: lab-image
	$(call lab_up,longlived)
	python benchmarks/weighted.py
	python benchmarks/failover.py --reps 3 --lab longlived --events ll-weight-change --ecmp resilient

# `molecule destroy` where molecule's state says created (it takes ~20 s even
# when there is nothing to remove), then whatever else carries the lab label.
lab-destroy: setup
	@if docker info >/dev/null 2>&1; then \
	    for s in $(MOLECULE_SCENARIOS); do \
	        if (($$($(MOLECULE_CREATED)) > 0)); then molecule destroy -s $$s; fi; \
	    done; \
	fi
	lab/destroy.sh

# The golden files are the reviewed, committed output of the example
# inventory; regenerate them only on purpose, and read `git diff` afterwards.
golden: setup
	rm -rf tests/golden/example tests/golden/dynamic
	ansible-playbook playbooks/render.yml -i inventories/example -e fabric_render_dir=$(CURDIR)/tests/golden/example
	ansible-playbook playbooks/render.yml -i inventories/dynamic -e fabric_render_dir=$(CURDIR)/tests/golden/dynamic

# The documentation of inventories/example (anycast.fabric.document) as
# reviewed goldens: fabric.md, the CSV files and topology.dot (not the SVG,
# whose layout depends on the machine's Graphviz). Read `git diff` afterwards.
.PHONY: golden-docs
golden-docs: setup
	rm -rf tests/golden/docs
	ansible-playbook playbooks/document.yml -i inventories/example -e fabric_docs_dir=$(CURDIR)/tests/golden/docs -e fabric_docs_picture=false

clean:
	rm -rf $(BUILD)
