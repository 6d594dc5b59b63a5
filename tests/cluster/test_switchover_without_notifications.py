"""The fast configuration (``ocf-agents setup ovndb --notify no``) and the held one (``--notify
no --held-address``: master_ip added by the promote and removed by the demote, no IPaddr2) in a
real 3-node lab: without Pacemaker's notifications a planned switchover is four rounds of
actions in one transition (two with the held address), and every guarantee of the documented
configuration holds (issue 25): the
successor holds the demoted node's final data without a copy, no acknowledged write is lost,
the demoted node follows the new promoted node by itself (its follow-promoted helper) and the
other backup keeps replicating through it; after a crash of the promoted node the survivors
elect and follow the new one, and the crashed node rejoins as a replicating backup.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from lab_pool import LabPool, brought_up_drill
from test_switchover_fallback import HELD, AgentLog, own_switches

from ocf_agents.lab.drill import Drill, replicating, summary
from ocf_agents.lab.drill.probes import holds_address
from ocf_agents.lab.drill.resources import FAST, HELD
from ocf_agents.lab.drill.results import ONE_SHOT
from ocf_agents.lab.drill.watch import wait_or_fail
from ocf_agents.lab.layout import OVNDB_VIP, Node

FOLLOWED = "replicating from promoted node"  # follow.follow's line


@pytest.fixture(scope="module", params=[FAST, HELD])
def drill(request: pytest.FixtureRequest, lab_pool: LabPool) -> Iterator[Drill]:
    with brought_up_drill(lab_pool, 3, profile=request.param) as drill:
        yield drill


def notify_meta(drill: Drill) -> str:
    return drill.lab.run(drill.observer(), ["crm_resource", "-r", "ovndb_servers-clone", "--meta",
                                            "-g", "notify"]).stdout.strip()


def assert_backups_receive_new_writes(drill: Drill, promoted: Node) -> None:
    """master_ip is on the promoted node only, and every backup receives a write acknowledged
    now, chained or not."""
    assert [n for n in drill.lab.nodes if holds_address(n, OVNDB_VIP)] == [promoted]
    client = drill.clients[ONE_SHOT]
    last = [w for w in client.snapshot() if w.acked][-1:]
    for node in drill.lab.nodes:
        if node != promoted:
            assert replicating(drill.lab, node), f"{node.name} does not replicate"
            wait_or_fail(f"{node.name} to hold write {last[0].seq}",
                         lambda node=node: not client.missing(own_switches(drill, node), last), timeout=10)


def test_a_switchover_without_notifications_is_one_transition_and_loses_nothing(drill: Drill) -> None:
    assert notify_meta(drill) == "false"
    logs = {node: AgentLog(node) for node in drill.lab.nodes}
    result = drill.step("switchover", drill.switchover)
    print(summary(drill))
    assert result.ok, result.outcome
    assert (result.facts["transitions"], result.facts["aborts"]) == (1, 0), result.facts.get("aborted by")
    assert {name: tally.lost for name, tally in result.clients.items()} == {name: 0 for name in drill.clients}
    old, new = drill.lab.node(result.promoted_before), drill.lab.node(result.promoted_after)
    assert logs[new].lines(HELD), "the successor copied instead of holding the barrier"
    assert logs[old].lines(f"{FOLLOWED} {new.name}"), "the demoted node did not follow by itself"
    assert_backups_receive_new_writes(drill, new)


def test_after_a_crash_without_notifications_the_survivors_follow_and_nothing_is_lost(drill: Drill) -> None:
    result = drill.step("crash-promoted", drill.crash_promoted)
    print(summary(drill))
    assert result.ok, result.outcome
    assert result.facts["rejoined as"] == "replicating backup"
    assert_backups_receive_new_writes(drill, drill.lab.node(result.promoted_after))
