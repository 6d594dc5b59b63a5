"""The lab benchmarks' logic without a lab: what a step's result becomes in the report, and
how the RAFT bench reads a member's ``cluster/status`` (the real program's output is read by
tests/cluster/test_lab_raft.py)."""

from __future__ import annotations

import pytest

from bench.lab_runs import Run, client_settings, markdown, table
from bench.raft import ABOUT, TITLE, parse_args
from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT, StepResult
from ocf_agents.lab.layout import LabError, Node
from ocf_agents.lab.raft import NB, SB, MemberStatus, ovn_ctl_options, parse_status

# OVS 3.1's cluster/status of a leader, as the lab's node1 answered it (servers trimmed).
LEADER = """b941
Name: OVN_Northbound
Cluster ID: cafa (cafa05e0-a0dd-4120-a844-efc2c4a0bade)
Server ID: b941 (b941b6b8-a324-4c47-9ed1-b3f5925fe6a9)
Address: tcp:10.99.0.1:6643
Status: cluster member
Role: leader
Term: 1
Leader: self
Vote: self

Last Election started 1862 ms ago, reason: timeout
Last Election won: 1862 ms ago
Election timer: 1000
Log: [2, 7]
Servers:
    54bf (54bf at tcp:10.99.0.3:6643) next_index=7 match_index=6 last msg 300 ms ago
"""
FOLLOWER = """6623
Name: OVN_Northbound
Status: cluster member
Role: follower
Term: 3
Leader: 54bf
Vote: 54bf

Election timer: 1000
"""


def test_a_members_status_gives_its_role_term_and_when_it_won() -> None:
    assert parse_status(LEADER) == MemberStatus("cluster member", "leader", 1, 1862)
    assert parse_status(FOLLOWER) == MemberStatus("cluster member", "follower", 3, None)
    assert parse_status(FOLLOWER.replace("cluster member", "joining cluster")).status == "joining cluster"


def test_a_status_without_a_role_is_an_error_that_quotes_it() -> None:
    with pytest.raises(LabError, match="without Status, Role and Term: 'unknown database'"):
        parse_status("unknown database\n")


def test_the_seed_creates_the_clusters_and_the_others_join_it() -> None:
    seed, other = Node(1), Node(2)
    assert not any("remote-addr" in o for o in ovn_ctl_options(seed, seed))
    joining = ovn_ctl_options(other, seed)
    assert "--db-nb-cluster-remote-addr=10.99.0.1" in joining and "--db-sb-cluster-remote-addr=10.99.0.1" in joining
    assert "--db-nb-cluster-local-addr=10.99.0.2" in joining and "--db-sb-addr=10.99.0.2" in joining
    assert NB.remote([seed, other]) == "tcp:10.99.0.1:6641,tcp:10.99.0.2:6641"
    assert SB.remote([seed]) == "tcp:10.99.0.1:6642"


def step(name: str, ok: bool = True, **timings: float) -> StepResult:
    result = StepResult(name, ok, "ok" if ok else "FAILED: no leader", timings=dict(timings),
                        facts={"transitions": 1, "aborts": 0})
    result.clients[ONE_SHOT].gap, result.clients[ONE_SHOT].acked, result.clients[ONE_SHOT].lost = 0.3, 20, 0
    result.clients[LONG_LIVED].gap, result.clients[LONG_LIVED].acked, result.clients[LONG_LIVED].lost = 1.2, 10, 1
    return result


def test_a_step_becomes_a_run_with_both_clients_and_when_it_served() -> None:
    run = Run.of("raft", 2, step("leader-transfer", **{"new leader": 0.05, "first write": 0.2}), "new leader")
    assert run == Run("raft", "leader-transfer", 2, True, "ok", 0.3, 1.2, 0.05, 1, 0, 1, 30)


def test_the_table_has_a_row_per_configuration_and_step_in_the_order_they_ran() -> None:
    runs = [Run.of("raft", 1, step("leader-transfer", **{"new leader": 0.05}), "new leader"),
            Run.of("raft", 1, step("crash-leader", **{"new leader": 1.5}), "new leader"),
            Run.of("raft", 2, step("leader-transfer", **{"new leader": 0.07}), "new leader"),
            *Run.failed("raft", 3, ["leader-transfer", "crash-leader"], "bring-up: FAILED: not formed")]
    rows = table(runs)[2:]
    assert [row.split(" | ")[:2] for row in rows] == [["| raft", "leader-transfer"], ["| raft", "crash-leader"]]
    assert "| 0.06 (0.05-0.07) |" in rows[0] and rows[0].endswith("| 2 / 60 | 3 (1 failed) |")
    assert rows[1].endswith("| 1 / 30 | 2 (1 failed) |")


def test_a_step_failed_for_lost_writes_keeps_its_waits_and_its_losses_in_the_table() -> None:
    lost = step("switchover", ok=False)
    lost.outcome = "FAILED: acknowledged writes lost in a planned switchover: 1 by the long-lived client"
    runs = [Run.of("ovn", 1, lost, "VIP started"), Run.of("ovn", 2, step("switchover"), "VIP started")]
    row = table(runs)[2]
    assert "| 0.30 (0.30-0.30) | 1.20 (1.20-1.20) |" in row and row.endswith("| 2 / 60 | 2 (1 failed) |")


def test_the_raft_report_names_its_command_and_lists_every_run() -> None:
    runs = [Run.of("raft", 1, step("crash-leader", ok=False), "new leader")]
    text = markdown(TITLE, ABOUT, runs, {"machine": "test"}, "python -m bench.raft --runs 1")
    assert "Produced by `python -m bench.raft --runs 1`" in text
    assert "- 1 raft crash-leader: FAILED: no leader" in text


def test_the_client_library_is_given_to_the_client_as_an_absolute_path() -> None:
    settings = client_settings(parse_args(["--long-lived", "ovsdbapp", "--client-library", "build/ovsdbapp"]))
    assert settings.kind == "ovsdbapp" and settings.library is not None and settings.library.startswith("/")
    assert client_settings(parse_args([])).library is None


def test_the_chart_puts_a_switchover_and_a_leader_transfer_in_one_panel_in_its_row_order() -> None:
    from bench.chart import PANELS, bars

    runs = [Run("raft", "leader-transfer", 1, True, "ok", 0.1, 0.2),
            Run("held", "switchover", 1, True, "ok", 0.6, 2.5),
            Run("held", "switchover", 2, True, "ok", 0.8, 2.1),
            Run("held", "switchover", 3, False, "FAILED: not promoted"),
            Run("held", "crash-promoted", 1, True, "ok", 5.0, 7.0)]
    planned = PANELS[0][1]
    assert bars(runs, planned, "one_shot_gap") == [("held", 0.7, 0.6, 0.8), ("raft", 0.1, 0.1, 0.1)]
    assert bars(runs, PANELS[1][1], "long_lived_gap") == [("held", 7.0, 7.0, 7.0)]
