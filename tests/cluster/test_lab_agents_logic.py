"""The lab's agent switch and the fail-over bench's arithmetic, without a cluster.

What runs for real in test_lab_agents.py (OVN's agent and Stateful in a lab, crashed) is
checked here for its edge cases: which resources each variant asks for, the floor's server in
the boot plan, the writer's overlapping attempts, reading Pacemaker's log, the report.
"""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest

from bench import failover
from ocf_agents.cli import build_parser
from ocf_agents.lab import agents
from ocf_agents.lab.drill import OVNDB_SETUP, ovndb_setup_argv
from ocf_agents.lab.layout import NOWHERE, LabError, Node, State
from ocf_agents.lab.nodes import boot_plan
from ocf_agents.lab.writer import MAX_IN_FLIGHT, PAUSE_AFTER_FAILURE_S, Writer
from ocf_agents.setup.build import OvndbOptions, ovndb_setup
from ocf_agents.setup.render_pcs import render

from lab_pool import REPO


def test_lab_up_takes_an_agent_and_defaults_to_ours() -> None:
    parser = build_parser()
    assert parser.parse_args(["lab", "up"]).agent == agents.OURS
    assert parser.parse_args(["lab", "up", "--agent", "stateful"]).agent == agents.STATEFUL
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "up", "--agent", "pacemaker"])
    with pytest.raises(LabError, match="--agent must be one of ours, ovn, stateful"):
        agents.check_agent("theirs")


def test_a_state_file_written_before_the_switch_means_our_agent() -> None:
    assert State(**{"node_count": 3, "provider": "ovshalab"}).agent == agents.OURS


def spawned(agent: str) -> list[list[str]]:
    return [argv for kind, argv, *_ in boot_plan(Node(1), agent)["steps"] if kind == "spawn"]


def test_only_the_floor_boots_a_standalone_northbound_server_before_pacemaker() -> None:
    floor = spawned(agents.STATEFUL)
    servers = [argv for argv in floor if agents.FLOOR_NB_DB in argv]
    assert len(servers) == 1 and "--remote=ptcp:6641" in servers[0]
    assert floor.index(servers[0]) < floor.index(["pacemakerd"])
    for agent in (agents.OURS, agents.OVN):
        assert not [argv for argv in spawned(agent) if agents.FLOOR_NB_DB in argv]


def test_stateful_setup_is_the_ovndb_setup_with_only_the_agent_swapped() -> None:
    options = OvndbOptions(**OVNDB_SETUP)
    ours, floor = ovndb_setup(options), agents.stateful_setup(options)
    assert floor.constraints == ours.constraints
    assert floor.resources[1:] == ours.resources[1:]  # the VIP
    clone, theirs_clone = floor.resources[0], ours.resources[0]
    assert (clone.id, clone.meta, clone.primitive.id, clone.primitive.ops) == (
        theirs_clone.id, theirs_clone.meta, theirs_clone.primitive.id, theirs_clone.primitive.ops)
    assert str(clone.primitive.agent) == "ocf:pacemaker:Stateful" and clone.primitive.params == ()
    commands = [" ".join(step.argv) for step in render(floor, (0, 11, 5))]
    assert any("ocf:pacemaker:Stateful" in c and "promotable" in c for c in commands)
    assert any("ip=10.99.0.10" in c for c in commands)


def setup_printed(argv: list[str]) -> str:
    """What ``ocf-agents setup`` prints for the drill's command line, without --apply."""
    cli = argv[argv.index("-m"):]
    assert cli[-1] == "--apply"
    return subprocess.run([sys.executable, *cli[:-1], "--pcs-version", "0.11.5"], cwd=REPO,
                          capture_output=True, text=True, check=True, timeout=60).stdout


def test_ovns_agent_gets_the_same_options_without_nowhere_ip() -> None:
    ovn = setup_printed(ovndb_setup_argv(agents.OVN, "ovshalab"))
    ours = setup_printed(ovndb_setup_argv(agents.OURS, "ovshalab"))
    assert "ocf:ovnlab:ovndb-servers" in ovn and "nowhere_ip" not in ovn
    assert "ocf:ovshalab:ovndb-servers" in ours and f"nowhere_ip={NOWHERE}" in ours
    assert ovn.replace("ocf:ovnlab:", "ocf:ovshalab:") == ours.replace(
        f" nowhere_ip={NOWHERE}", "")


def test_one_write_at_a_time_unless_spaced() -> None:
    one, spaced = Writer("w"), Writer("w", spacing=0.1)
    never_failed = -1.0
    assert one.may_start(10.0, [], never_failed) and spaced.may_start(10.0, [], never_failed)
    assert not one.may_start(10.0, [5.0], never_failed)
    assert spaced.may_start(10.0, [5.0, 9.8], never_failed)  # latest began 0.2 s ago
    assert not spaced.may_start(10.0, [9.95], never_failed)
    assert not spaced.may_start(10.0, [9.0] * MAX_IN_FLIGHT, never_failed)
    assert not one.may_start(10.0, [], 10.0 - PAUSE_AFTER_FAILURE_S / 2)  # pause after a failure


# Lines of a lab node's pacemaker.log (Pacemaker 2.1.5), trimmed.
LOG = """\
Nov 22 03:38:45.100 node2 pacemaker-controld  [46] (update_peer_state_iter) \tnotice: Node node1 state is now lost | nodeid=1 (an earlier crash)
Nov 22 03:38:50.225 node2 pacemaker-attrd     [44] (update_peer_state_iter) \tnotice: Node node1 state is now lost | nodeid=1 previous=member
Nov 22 03:38:50.225 node2 pacemaker-controld  [46] (update_peer_state_iter) \tnotice: Node node1 state is now lost | nodeid=1 previous=member
Nov 22 03:38:50.301 node2 pacemaker-fenced    [42] (finalize_op) \tnotice: Operation 'reboot' targeting node1 by node3 for pacemaker-controld.46@node3: OK (complete) | id=116c3398
Nov 22 03:38:50.329 node2 pacemaker-execd     [43] (log_execute) \tinfo: executing - rsc:ovndb_servers action:notify call_id:29
Nov 22 03:38:50.409 node2 pacemaker-execd     [43] (log_execute) \tinfo: executing - rsc:ovndb_servers action:promote call_id:30
Nov 22 03:38:50.533 node2 pacemaker-controld  [46] (log_executor_event) \tnotice: Result of promote operation for ovndb_servers on node2: ok | CIB update 55
Nov 22 03:38:50.737 node2 pacemaker-controld  [46] (log_executor_event) \tnotice: Result of start operation for ovndb_servers-vip on node2: ok | CIB update 60
Nov 22 03:38:56.001 node2 pacemaker-controld  [46] (do_state_transition) \tnotice: State transition S_IDLE -> S_ELECTION | (node1 rejoins)
"""


def test_moments_are_the_first_log_lines_after_the_crash() -> None:
    crash = datetime.datetime(2026, 11, 22, 3, 38, 48).timestamp()
    found = failover.log_moments(LOG, "node1", "node2", crash, 2026)
    assert {k: round(v, 3) for k, v in found.items()} == {
        "node lost": 2.225, "fenced": 2.301, "notify began": 2.329, "promote began": 2.409, "promoted": 2.533,
        "VIP started": 2.737}  # no "DC election": node2 was the DC
    assert "promoted" not in failover.log_moments(LOG, "node1", "node3", crash, 2026)


def run(agent: str, first_write: float, lost: int | None = 0, ok: bool = True,
        long_lived_gap: float | None = None) -> failover.Run:
    moments = {"node lost": 2.0, "notify began": 2.1, "promote began": 2.2, "promoted": 2.5,
               "VIP started": 2.75, "first write": first_write}
    return failover.Run(agent, 1, ok, "ok" if ok else "FAILED: x", first_write if ok else None,
                        10, lost, moments if ok else None,
                        long_lived_gap if ok else None)


def test_report_gives_each_agents_median_and_what_it_adds_to_the_floor() -> None:
    runs = [run("ours", 3.0, long_lived_gap=13.0), run("ovn", 4.0, lost=2, long_lived_gap=7.5),
            run("stateful", 2.8, lost=None, long_lived_gap=3.5), run("ours", 3.4),
            run("ovn", 9.0, ok=False), run("stateful", 3.0, lost=None, long_lived_gap=4.5)]
    added = failover.added_to_floor(runs, "crash", "first write")
    assert {k: round(v, 2) for k, v in added.items()} == {"ours": 0.3, "ovn": 1.1}
    assert failover.stage(runs[0], "VIP started", "first write") == pytest.approx(0.25)
    text = failover.markdown(runs, {"date": "today"}, "python -m bench.failover")
    # The long-lived client's outage: runs without it (an older failover.json) are left out.
    assert ("| ours (ocf:ovshalab:ovndb-servers) | 3.20 (3.00-3.40) | 13.00 (13.00-13.00) "
            "| 0 of 20 | 0 | 2 |") in text
    assert ("| OVN's (ovndb-servers.ocf) | 4.00 (4.00-4.00) | 7.50 (7.50-7.50) | 2 of 10 | 0 "
            "| 1 (1 failed) |") in text
    assert ("| Pacemaker's Stateful (the floor) | 2.90 (2.80-3.00) | 4.00 (3.50-4.50) "
            "| not counted | 0 | 2 |") in text
    assert "long-lived client's outage 13.00 s" in text
    assert "| ours (ocf:ovshalab:ovndb-servers) | +0.30 | +0.30 | yes |" in text
    assert "| OVN's (ovndb-servers.ocf) | +1.10 | +1.10 | no |" in text
    assert "| crash to node lost (Corosync) | 2.00 (2.00-2.00) |" in text


def test_no_floor_no_difference() -> None:
    assert failover.added_to_floor([run("ours", 3.0)], "crash", "first write") == {}


def test_bench_takes_only_per_namespace_sysctls_and_known_agents() -> None:
    assert failover.parse_args(["--node-sysctl", "net.ipv4.ip_nonlocal_bind=1"]).node_sysctl == [
        "net.ipv4.ip_nonlocal_bind=1"]
    with pytest.raises(SystemExit):
        failover.parse_args(["--node-sysctl", "kernel.pid_max=9"])
    with pytest.raises(LabError):
        failover.parse_args(["--agents", "ours,theirs"])
