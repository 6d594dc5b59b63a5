"""The drill's scenarios on a real 3-node lab running our agents, each asserted on its outcome.

The module brings the agents up once (``ocf-agents setup --apply`` inside a node) with the
writing client running, then runs one scenario per test, in the drill's order. Each scenario
leaves the lab whole again. Timings are recorded by the drill, never asserted here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from lab_pool import LabPool
from test_drill_picture_logic import drawn, of

from ocf_agents.lab import network
from ocf_agents.lab.drill import OVNDB, Drill, StepResult, replicating, summary
from ocf_agents.lab.drill.picture import write_picture
from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT, block
from ocf_agents.lab.drill.watch import acked_then_present
from ocf_agents.lab.layout import OVNDB_VIP


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool) -> Iterator[Drill]:
    lab = lab_pool.get(3)
    drill = Drill(lab)
    try:
        yield drill
    finally:
        drill.stop_clients()
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


def test_planned_switchover_is_one_transition_that_nothing_aborts(switchover: StepResult) -> None:
    """With OVN's documented configuration (notifications, IPaddr2), as counted in the DC's
    log from the move to the VIP's start: the agent writes nothing into the CIB meanwhile
    (issue 25; it took three transitions, aborted by its score and OVN_REPL_INFO writes)."""
    facts = switchover.facts
    assert (facts["transitions"], facts["aborts"]) == (1, 0), facts.get("aborted by")


BARRIER_LOG = "holds the demoted node's final data (barrier"


def test_planned_switchover_proves_the_final_data_by_the_barrier(drill: Drill, switchover: StepResult) -> None:
    """The VIP leaves the promoted node before its demote; the backups replicate from the
    promoted node's own address, so their sessions go on, and the demote's barrier reaches the
    successor, which promotes without copying. The demoted node then withdraws the listener on
    its own address (its databases listen on the VIP's address only again), and the new
    promoted node listens on its own."""
    old, new = drill.lab.node(switchover.promoted_before), drill.lab.node(switchover.promoted_after)
    log = drill.lab.run(new, ["grep", "-F", BARRIER_LOG, "/var/log/pacemaker/pacemaker.log"], check=False)
    assert re.search(rf"{re.escape(BARRIER_LOG)} \d+:\d+:{old.name}\)", log.stdout), log.stdout
    for db in ("nb", "sb"):
        def remotes(node):
            return drill.lab.run(node, ["ovs-appctl", "-t", f"/run/ovn/ovn{db}_db.ctl",
                                        "ovsdb-server/list-remotes"]).stdout.split()
        assert not [r for r in remotes(old) if r.rsplit(":", 1)[-1] == old.address], remotes(old)
        assert [r for r in remotes(new) if r.rsplit(":", 1)[-1] == new.address], remotes(new)


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
    assert_fenced(result)


def assert_fenced(result: StepResult) -> None:
    """The step's fault made the cluster fence the faulty node, and the summary says so."""
    crashed = result.promoted_before
    assert result.facts["fence"].startswith(f"off {crashed} by node"), result.facts
    assert 0 < result.timings["fenced"] < 60
    assert f"fenced {result.timings['fenced']:.2f} s (off {crashed} by node" in "\n".join(block(result))


def test_stale_replica_is_not_promoted(drill: Drill, brought_up) -> None:
    result = drill.step("stale-replica", drill.stale_replica)
    assert result.ok, result.outcome
    assert result.promoted_after == result.facts["fresh"] != result.facts["stale"]


def test_partitioned_promoted_node_is_fenced_and_never_two_writable(drill: Drill, brought_up) -> None:
    result = drill.step("partition", drill.partition)
    assert result.ok, result.outcome
    assert result.facts["max writable at once"] == 1
    assert result.facts["max active at once"] == 1  # the cut-off node fenced first
    assert result.promoted_after != result.promoted_before
    assert replicating(drill.lab, drill.lab.node(result.promoted_before))
    assert_fenced(result)


def test_port_group_fails_over_with_its_mac_and_speaks_only_with_it_on_a_shared_bridge(
        drill: Drill, brought_up) -> None:
    """Each node has an interface of its own on br-lab in the port's subnet: before and after
    the move, the ARP replies for the port's address, the ARP requests asking with it and the
    packets from it all carry the port's MAC (the one the client kept)."""
    result = drill.step("port-failover", drill.port_failover)
    assert result.ok, result.outcome
    mac = result.facts["MAC before"]
    assert mac and result.facts["MAC after"] == mac
    only_the_port = f"ARP reply {mac}, ARP request {mac}, IPv4 {mac}"
    assert result.facts["frames before"] == only_the_port
    assert result.facts["frames after"] == only_the_port
    assert result.promoted_after != result.promoted_before


def faulted(drill: Drill) -> list[StepResult]:
    """The steps so far whose fault moved or restarted the database the clients write to."""
    return [r for r in drill.results if r.clients[LONG_LIVED].gap is not None]


def test_the_long_lived_client_reconnected_in_one_process_through_the_steps(
        drill: Drill, brought_up) -> None:
    """After the steps above: the IDL client started at the bring-up is still running (a
    client that reconnects by itself, not one restarted), with a new session after each
    fault, and wrote again after each."""
    assert drill.long_lived.running(), drill.long_lived.death()
    steps = faulted(drill)
    assert steps, "no step with a fault of the database ran"
    assert len(drill.long_lived.connections) >= 1 + len(steps)
    assert drill.long_lived.first_ack_after(drill.long_lived.connections[-1])


# Steps whose fault takes the promoted server down unannounced: asynchronous replication may
# lose the last acknowledged writes there, which the drill counts (docs/lab.md).
# Steps that take a promoted server down unannounced (port-failover crashes the port's node,
# which may hold the promoted databases too).
UNANNOUNCED = {"kill-db-server", "crash-promoted", "stale-replica", "partition", "port-failover"}


def test_the_long_lived_clients_acknowledged_writes_are_in_the_database(
        drill: Drill, brought_up) -> None:
    """Every write the long-lived client saw acknowledged is in the database now, but for
    some of those the drill counted lost in a step that took the promoted server down
    unannounced; none in the bring-up or the others (the switchover). The client still
    writes: its writes are taken before the database is read (acked_then_present)."""
    [acked], present = acked_then_present([drill.long_lived])
    assert acked
    assert not [r.name for r in drill.results if r.name not in UNANNOUNCED
                and r.clients[LONG_LIVED].lost]
    assert not set(drill.long_lived.missing(present, acked)) - drill.known_lost[LONG_LIVED]


def test_the_summary_gives_both_clients_outage_per_step(drill: Drill, brought_up) -> None:
    text = summary(drill)
    assert max(len(line) for line in text.splitlines()) <= 120
    for r in faulted(drill):
        one_shot, long_lived = r.clients[ONE_SHOT].gap, r.clients[LONG_LIVED].gap
        assert f"{ONE_SHOT}: gap {one_shot:.2f} s" in text and f"{LONG_LIVED}: gap {long_lived:.2f} s" in text, \
            r.name



def test_the_picture_shows_each_steps_events(drill: Drill, brought_up, tmp_path: Path) -> None:
    """The picture of the steps above, written as ``ocf-agents drill`` writes it, has a panel
    per step showing what the drill saw there by other means: each client's writes (at least
    those the step counted), the promoted node at the fault (Pacemaker's, before the step)
    active with the VIP and ovn-northd, and after the step (Pacemaker's, after it) the one
    active node with both; the fence the step waited for, when the device answered; the
    fault's marks; and what each fault did to its node."""
    picture = Path(write_picture(drill.results, str(tmp_path), "drill"))
    steps = drawn(picture.read_text(encoding="utf-8"))
    assert list(steps) == [r.name for r in drill.results]
    for r in drill.results:
        events = steps[r.name]
        for client, tally in r.clients.items():
            count = sum(int(e.what.split()[1]) for e in of(events, "writes") if e.what.startswith(f"{client}:"))
            assert count >= tally.acked > 0, (r.name, client)
        assert [e.what for e in of(events, "moment")] == list(r.moments), r.name
        at = {e.what: e.start for e in of(events, "moment")}
        nodes = {n.name for n in drill.lab.nodes}
        if r.promoted_before in nodes:  # 20 ms before the fault: the titles' times are rounded
            fault = next(iter(at.values())) - 0.02
            assert {e.what for e in events if e.start <= fault < e.end} >= {
                f"{r.promoted_before}: active", f"VIP on {r.promoted_before}",
                f"ovn-northd on {r.promoted_before}"}, r.name
        last = {e.what.split(" on ")[0].split(":")[0]: e.what for e in events if e.kind != "writes"
                and e.end == max(x.end for x in events)}
        active = [n for n in nodes if last.get(n) == f"{n}: active"]
        assert len(active) == 1 and last["VIP"] == f"VIP on {active[0]}", (r.name, last)
        assert last["ovn-northd"] == f"ovn-northd on {active[0]}", (r.name, last)
        if r.promoted_after in nodes:
            assert active == [r.promoted_after], r.name
        if "fence" in r.facts:
            fence = next(e for e in of(events, "fence") if r.facts["fence"].startswith(e.what[len("fence "):]))
            assert abs(fence.end - next(iter(at.values())) - r.timings["fenced"]) <= 0.02, r.name
        roles = [e.what for e in of(events, "role") if e.what.startswith(f"{r.promoted_before}:")]
        effect = {"crash-promoted": ["down", "backup"], "stale-replica": ["down", "backup"],
                  "partition": ["active, cut off", "down", "backup"], "kill-db-server": ["stopped"]}
        assert is_subsequence([f"{r.promoted_before}: {role}" for role in effect.get(r.name, [])], roles), \
            (r.name, roles)
        if r.name == "kill-northd":  # its ovn-northd gone at once, until the cluster restarted it
            assert any(at["kill"] <= e.end <= at["kill"] + 1 for e in of(events, "ovn-northd")), events


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    remaining = iter(seen)
    return all(item in remaining for item in wanted)
