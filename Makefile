# ocf-agents: build, install and test.
#
#   make deps        Debian packages, the test virtual environment (quick when present) and
#                    the ocf-agents command of this checkout in it ($(VENV)/bin/ocf-agents)
#   make test        deps, then every test tier (unit, conformance, integration, cluster)
#   make install     agents into $(DESTDIR)$(OCF_ROOT)/resource.d/$(PROVIDER)/, the library
#                    into $(DESTDIR)$(OCF_ROOT)/lib/$(PROVIDER)/ (found there by the agents),
#                    the ocf-agents command into $(DESTDIR)$(SBINDIR)/ as the .deb does
#   make uninstall   removes exactly what install put there
#   make demo        as root: a 3-node lab, the fail-over drill and its summary, lab down again
#   make docs        man pages from the agents' meta-data ($(MAN_DIR)/ocf_$(PROVIDER)_<agent>.7) and
#                    from the ocf-agents command's parser ($(MAN_DIR)/ocf-agents.8)
#   make deb         a Debian package in $(DEB_DIR)/ (dpkg-buildpackage on a copy of the tree)

OCF_ROOT  ?= /usr/lib/ocf
PROVIDER  ?= ovsha
DESTDIR   ?=
SBINDIR   ?= /usr/sbin
PYTHON    ?= /usr/bin/python3
VENV      ?= .venv
PYTEST_ARGS ?=

AGENTS    := ovndb-servers OVSPort
AGENT_DIR := $(DESTDIR)$(OCF_ROOT)/resource.d/$(PROVIDER)
LIB_DIR   := $(DESTDIR)$(OCF_ROOT)/lib/$(PROVIDER)
MAN_DIR   ?= docs/man
DEB_DIR   ?= build/deb
PKG_FILES := $(shell find ocf_agents -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null)
# The ocf-agents command: the .deb's launcher, run by $(1), importing the library from $(2).
launcher = sed -e '1s|.*|\#!$(1)|' -e 's|^LIBRARY = ""|LIBRARY = "$(2)"|' debian/ocf-agents.launcher

.PHONY: all deps test install uninstall clean demo docs deb bench bench-failover bench-switchover bench-raft bench-chart test-debian13

all:
	@echo "targets: deps test install uninstall clean"

deps: $(VENV)/.deps-stamp $(VENV)/bin/ocf-agents
	@tools/install-deps

$(VENV)/.deps-stamp: requirements-test.txt
	@tools/install-deps
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

$(VENV)/bin/ocf-agents: debian/ocf-agents.launcher $(VENV)/.deps-stamp
	$(call launcher,$(abspath $(VENV))/bin/python,$(CURDIR)) > $@
	chmod 755 $@

test: deps
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS) tests

# A 3-node lab (Corosync + Pacemaker in namespaces, as root), the fail-over drill with its
# summary, and the lab taken down again whatever happened (a lab up leaves nothing behind
# when it fails itself). See docs/lab.md. DEMO_PROFILE: the configuration (docs/guide.md, "A
# switchover in one transition"); held, the fastest, by default.
DEMO_PROFILE ?= held
demo: deps
	@$(PYTHON) -m ocf_agents.cli lab up --nodes 3
	@trap '$(PYTHON) -m ocf_agents.cli lab down' EXIT; trap 'exit 130' INT TERM; \
	$(PYTHON) -m ocf_agents.cli drill --profile $(DEMO_PROFILE)

install:
	install -d -m 755 $(AGENT_DIR)
	for a in $(AGENTS); do \
		[ -f heartbeat/$$a ] && install -m 755 heartbeat/$$a $(AGENT_DIR)/$$a || true; \
	done
	for f in $(PKG_FILES); do install -D -m 644 $$f $(LIB_DIR)/$$f; done
	# Byte code now: without it every agent call compiles the library first where /usr is
	# read-only, and the first calls after an upgrade do (docs/performance.md).
	$(PYTHON) -m compileall -q $(if $(DESTDIR),-s $(DESTDIR) -p /) $(LIB_DIR)/ocf_agents
	install -d -m 755 $(DESTDIR)$(SBINDIR)
	$(call launcher,$(PYTHON),$(OCF_ROOT)/lib/$(PROVIDER)) > $(DESTDIR)$(SBINDIR)/ocf-agents
	chmod 755 $(DESTDIR)$(SBINDIR)/ocf-agents

uninstall:
	for a in $(AGENTS); do rm -f $(AGENT_DIR)/$$a; done
	rm -f $(DESTDIR)$(SBINDIR)/ocf-agents
	rm -rf $(LIB_DIR)/ocf_agents
	-rmdir $(LIB_DIR) $(AGENT_DIR) 2>/dev/null

docs:
	$(PYTHON) tools/gen_man.py --provider $(PROVIDER) --output $(MAN_DIR) --command $(addprefix heartbeat/,$(AGENTS))

# The package is built from a copy, so that the build's files never land in the working tree.
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -c --exclude-vcs --exclude=./$(VENV) --exclude=./build --exclude=./dist \
		--exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache . | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && PROVIDER=$(PROVIDER) dpkg-buildpackage -us -uc -b
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

# Ours against OVN's ovndb-servers agent on a real ovsdb-server pair (root; about 10 minutes).
# BENCH_ARGS: e.g. --runs 3 --sizes 1000 (python -m bench.run --help). Results: build/bench/.
BENCH_ARGS ?=
bench: deps
	$(VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# Fail-over in the lab: the promoted node crashed, with ours, OVN's agent and Pacemaker's
# Stateful (the floor) in turn; a fresh lab per run (root; about 37 s per run, so 10 minutes
# for the default 5 runs per agent; one lab per machine: hold its lock, e.g.
# flock /run/ocfa-lab.lock make bench-failover). FAILOVER_ARGS: e.g. --runs 2 --nodes 2
# (python -m bench.failover --help). Results: build/bench/failover.md.
FAILOVER_ARGS ?=
bench-failover: deps
	$(VENV)/bin/python -m bench.failover $(FAILOVER_ARGS)

# Planned switchovers in the lab per configuration (documented, fast, held: docs/guide.md), with
# OVN's agent in the documented one; a fresh lab per run (root; about 2.5 minutes per run; hold
# the lab's lock). SWITCHOVER_ARGS: e.g. --runs 3 --ports 0 (python -m bench.switchover
# --help). Results: build/bench/switchover.md.
SWITCHOVER_ARGS ?=
bench-switchover: deps
	$(VENV)/bin/python -m bench.switchover $(SWITCHOVER_ARGS)

# OVN's clustered (RAFT) databases on the lab's three nodes, with the switchover bench's clients
# and table: a leader transfer and a crash of the leader per run, a fresh lab per run (root;
# about 25 s per run; hold the lab's lock). RAFT_ARGS: e.g. --runs 3 --long-lived ovsdbapp
# (python -m bench.raft --help). Results: build/bench/raft.md.
RAFT_ARGS ?=
bench-raft: deps
	$(VENV)/bin/python -m bench.raft $(RAFT_ARGS)

# docs/performance.png from the two benches' results (build/bench/switchover.json, raft.json).
bench-chart: deps
	$(VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	$(VENV)/bin/python -m bench.chart build/bench/switchover.json build/bench/raft.json -o docs/performance.png

# The Debian 13 (trixie) tier: the tests in a debootstrapped trixie root, cached in
# /var/cache/ocf-agents/debian13 (root; skipped with a message naming what cannot be had).
# PYTEST_ARGS go to pytest in the root. See tools/test-debian13.
test-debian13:
	tools/test-debian13 -- $(PYTEST_ARGS)
