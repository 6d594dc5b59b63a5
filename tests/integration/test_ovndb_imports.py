"""What the ovndb-servers agent imports on the paths that run most: none of the heavy modules.

A recurring monitor runs every few seconds on every node, as a new process each time; its own
work takes a few milliseconds, and importing ``json`` or ``typing`` alone would cost more
(docs/performance-history.md). These tests run the real heartbeat script, with the interpreter
flags of its ``#!`` line, against real ovsdb-servers (see ovndb_harness.py), and look at
``sys.modules`` when it exits. They assert which modules are loaded, not how long anything
takes.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from ovndb_harness import AGENT, Lab, Node, have_ovn, wait_for

pytestmark = [
    pytest.mark.skipif(not have_ovn(), reason="needs ovsdb-server, ovn-ctl, ovn-nbctl and crm_attribute"),
    pytest.mark.skipif(os.geteuid() != 0, reason="ovn-ctl and the agent's start/stop need root"),
]

# Top-level modules the lean paths must not load. subprocess: no command runs on them.
HEAVY = {"typing", "json", "re", "enum", "socket", "collections", "functools", "dataclasses", "xml",
         "subprocess", "selectors", "signal", "inspect", "site"}
MONITOR = {"interval_ms": 10000}

# Runs the script as its #! line would (same flags, passed below), then prints the modules.
REPORT = """
import sys
script, sys.argv = sys.argv[1], sys.argv[1:]
try:
    exec(compile(open(script).read(), script, "exec"), {"__name__": "__main__", "__file__": script})
except SystemExit as done:
    print("rc", done.code, *sorted(sys.modules))
"""


def interpreter_flags() -> list[str]:
    """The interpreter and flags of the script's #! line (``/usr/bin/python3 -IS``)."""
    return AGENT.read_text().splitlines()[0].removeprefix("#!").split()


def loaded(node: Node, action: str, **kw) -> tuple[int, set[str]]:
    """(exit code, top-level modules loaded) of one agent call on ``node``."""
    rc, modules = loaded_fully(node, action, **kw)
    return rc, {name.partition(".")[0] for name in modules}


def loaded_fully(node: Node, action: str, **kw) -> tuple[int, set[str]]:
    """(exit code, every module loaded, dotted names) of one agent call on ``node``."""
    proc = subprocess.run([*interpreter_flags(), "-c", REPORT, str(AGENT), action], env=node.env(**kw),
                          capture_output=True, text=True, timeout=60)
    words = proc.stdout.split()
    assert words[:1] == ["rc"], proc.stderr
    return int(words[1]), set(words[2:])


@pytest.fixture(scope="module")
def pair():
    """node1 promoted, node2 replicating from it, and both nodes' steady monitors reached."""
    lab = Lab(2)
    try:
        a, b = lab.nodes
        for node in (a, b):
            assert node.run("start").rc == 0
        assert lab.promote(a, [b]).rc == 0
        wait_for("node2 to replicate", lambda: b.run("monitor", master_ip=a.addr, **MONITOR).rc == 0
                 and b.score() == "10")
        # The promoted node's steady monitor: the second after the promote writes OVN_REPL_INFO
        # (repl_info.py), once per promotion.
        for _ in range(2):
            assert a.run("monitor", master_ip=a.addr, **MONITOR).rc == 8
        yield lab, a, b
    finally:
        lab.close()


def test_the_heartbeat_script_runs_without_site_and_ignores_python_variables() -> None:
    assert interpreter_flags() == ["/usr/bin/python3", "-IS"]


def test_recurring_monitor_of_the_promoted_node_imports_nothing_heavy(pair) -> None:
    _, a, _ = pair
    rc, modules = loaded(a, "monitor", master_ip=a.addr, **MONITOR)
    assert rc == 8
    assert modules & HEAVY == set()


def test_recurring_monitor_of_a_replicating_backup_imports_nothing_heavy(pair) -> None:
    _, a, b = pair
    rc, modules = loaded(b, "monitor", master_ip=a.addr, **MONITOR)
    assert rc == 0
    assert modules & HEAVY == set()


def test_a_monitor_loads_neither_the_election_nor_barriers_nor_the_hand_off_nor_notifications(pair) -> None:
    """The dispatcher imports an action's module only when that action runs."""
    _, a, b = pair
    for node in (a, b):
        rc, modules = loaded_fully(node, "monitor", master_ip=a.addr, **MONITOR)
        assert rc in (0, 8)
        agent = {name.rpartition(".")[2] for name in modules if name.startswith("ocf_agents.agents.ovndb.")}
        assert "monitor" in agent
        assert agent & {"election", "barrier", "handoff", "notify", "promotion", "lifecycle"} == set()


def test_probe_of_a_stopped_node_and_validate_all_import_nothing_heavy(tmp_path) -> None:
    lab = Lab(1)
    try:
        (node,) = lab.nodes
        rc, probed = loaded(node, "monitor", interval_ms=0)
        assert rc == 7
        rc, validated = loaded(node, "validate-all")
        assert rc == 0
        assert (probed | validated) & HEAVY == set()
    finally:
        lab.close()


def test_the_check_sees_a_heavy_import(pair) -> None:
    """The check above can fail: a monitor whose score must be written runs crm_attribute,
    through subprocess, which pulls several of the heavy modules."""
    _, a, b = pair
    (b.rundir / "ovndb-servers.score").unlink()  # the score cache: now the score is written again
    rc, modules = loaded(b, "monitor", master_ip=a.addr, **MONITOR)
    assert rc == 0
    assert {"subprocess", "enum"} <= modules
