"""The drill's scenarios on a real 3-node lab running our agents, each asserted on its outcome.

The module brings the agents up once (``ocf-agents setup --apply`` inside a node) with the
writing client running, then runs one scenario per test, in the drill's order. Each scenario
leaves the lab whole again. Timings are recorded by the drill, never asserted here.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from lab_pool import LabPool

from ocf_agents.lab import network
from ocf_agents.lab.drill import OVNDB, Drill, StepResult, replicating
from ocf_agents.lab.layout import OVNDB_VIP


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool) -> Iterator[Drill]:
    lab = lab_pool.get(3)
    drill = Drill(lab)
    try:
        yield drill
    finally:
        drill.writer.stop()
        lab_pool.drop()  # the agents' resources and addresses go with the lab


@pytest.fixture(scope="module")
def brought_up(drill: Drill) -> StepResult:
    result = drill.step("bring-up", drill.bring_up)
    if not result.ok:
        pytest.fail(f"bring-up: {result.outcome}")
    return result


def holds_vip(drill: Drill, node_name: str) -> bool:
    return f"inet {OVNDB_VIP}/" in network.ip("-4", "-o", "addr", "show",
                                              netns=drill.lab.node(node_name).netns)


def assert_one_promoted_with_vip_and_replicas(drill: Drill, promoted: str) -> None:
    view = drill.wait_view("one promoted instance", lambda v: len(v.promoted(OVNDB)) == 1)
    assert view.promoted(OVNDB) == [promoted]
    assert [n.name for n in drill.lab.nodes if holds_vip(drill, n.name)] == [promoted]
    for node in drill.lab.nodes:
        if node.name != promoted:
            assert replicating(drill.lab, node), f"{node.name} does not replicate"


def test_bring_up_promotes_one_node_and_the_others_replicate(drill: Drill,
                                                            brought_up: StepResult) -> None:
    assert_one_promoted_with_vip_and_replicas(drill, brought_up.promoted_after)
    assert brought_up.facts["port group on"] in {n.name for n in drill.lab.nodes}
    assert brought_up.acked >= 1 and brought_up.lost == 0


@pytest.fixture(scope="module")
def switchover(drill: Drill, brought_up) -> StepResult:
    """One planned switchover (crm_resource --move, then clear), shared by the two tests below."""
    return drill.step("switchover", drill.switchover)


def test_planned_switchover_moves_the_promoted_role(drill: Drill, switchover: StepResult) -> None:
    assert switchover.promoted_after != switchover.promoted_before, switchover.outcome
    assert switchover.acked > 0
    assert_one_promoted_with_vip_and_replicas(drill, switchover.promoted_after)


def test_planned_switchover_loses_no_acknowledged_write(switchover: StepResult) -> None:
    assert switchover.lost == 0 and switchover.ok, switchover.outcome


HANDOFF_LOG = "copied the demoted node's final data from"


def test_planned_switchover_copies_the_demoted_nodes_final_data(drill: Drill,
                                                                 switchover: StepResult) -> None:
    """The VIP leaves the promoted node before its demote, cutting replication off with updates
    in flight: the new promoted node copied the demoted node's data from that node's own
    address before taking writes, and the demoted node then withdrew the listener it offered
    the data on (its databases listen on the VIP only again)."""
    old, new = drill.lab.node(switchover.promoted_before), drill.lab.node(switchover.promoted_after)
    log = drill.lab.run(new, ["grep", "-F", HANDOFF_LOG, "/var/log/pacemaker/pacemaker.log"], check=False)
    assert f"{HANDOFF_LOG} {old.address}" in log.stdout
    for db in ("nb", "sb"):
        remotes = drill.lab.run(old, ["ovs-appctl", "-t", f"/run/ovn/ovn{db}_db.ctl",
                                      "ovsdb-server/list-remotes"]).stdout.split()
        assert not [r for r in remotes if r.rsplit(":", 1)[-1] == old.address], remotes


def test_killed_database_server_is_recovered(drill: Drill, brought_up) -> None:
    result = drill.step("kill-db-server", drill.kill_db_server)
    assert result.ok, result.outcome
    assert "first write" in result.timings  # writes were accepted again
    assert_one_promoted_with_vip_and_replicas(drill, drill.promoted().name)


def test_crashed_promoted_node_fails_over_and_rejoins_as_backup(drill: Drill,
                                                                brought_up) -> None:
    result = drill.step("crash-promoted", drill.crash_promoted)
    assert result.ok, result.outcome
    assert result.promoted_after != result.promoted_before
    assert result.facts["rejoined as"] == "replicating backup"
    assert replicating(drill.lab, drill.lab.node(result.promoted_before))


def test_stale_replica_is_not_promoted(drill: Drill, brought_up) -> None:
    result = drill.step("stale-replica", drill.stale_replica)
    assert result.ok, result.outcome
    assert result.promoted_after == result.facts["fresh"] != result.facts["stale"]


def test_partitioned_promoted_node_never_leaves_two_writable(drill: Drill, brought_up) -> None:
    result = drill.step("partition", drill.partition)
    assert result.ok, result.outcome
    assert result.facts["max writable at once"] == 1
    assert result.promoted_after != result.promoted_before
    assert replicating(drill.lab, drill.lab.node(result.promoted_before))


def test_port_group_fails_over_with_its_mac(drill: Drill, brought_up) -> None:
    result = drill.step("port-failover", drill.port_failover)
    assert result.ok, result.outcome
    assert result.facts["MAC before"] and result.facts["MAC after"] == result.facts["MAC before"]
    assert result.promoted_after != result.promoted_before
