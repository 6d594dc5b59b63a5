"""The switchover hand-off's fallback in a real 3-node lab (Corosync, Pacemaker, our agent,
the VIP and the drill's two writing clients): a successor that does not hold the demoted
node's barrier copies that node's final data before it turns active, and no write either
client saw acknowledged is lost (docs/ovndb-monitor-states.md, "The switchover hand-off",
step 4; issue 14). tests/integration drives the same fallback as Pacemaker would; here
Pacemaker does, on a ``crm_resource --move`` as the drill's switchover runs it.

How the proof is withheld: right before the move, the successor's two servers are pointed at
the lab's nowhere address (``nowhere_ip``) with the three commands the agent itself sends
(ovsdb.make_backup; from OVS 3.3 a replicating server keeps its session through the first two
alone). From then on the successor misses every write and the demote's barrier, and the test
waits until each client has written something the successor does not hold. That is the state
a real fault leaves a backup in: the agent points a backup at nowhere when it has nobody to
follow, and leaves it there when its post-promote notification cannot re-point it (a server
that does not answer: notify.follow_new_promoted). Only the successor's replication changes:
the demoted node's own address, where the fallback copies from, stays reachable, as it does
when a replication session alone has failed.

Not by dropping the successor's replication traffic in its namespace (nftables, as the drill's
stale-replica step does): the backups replicate from the promoted node's own address, and the
copy goes to that same address and ports, so a rule that cuts replication refuses the copy
too. That shows the copy failing (the election then refuses the successor: tests/integration,
test_a_successor_whose_hand_off_failed_is_refused_rather_than_promoted_with_less_data), not
the copy keeping every write.

Whatever the test changes is undone with the lab: the module's fixture takes it down, also on
failure; after a successful move the promotion itself ends the successor's backups.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Iterator

import pytest
from lab_pool import LabPool, brought_up_drill

from ocf_agents.agents.ovndb.metadata import METADATA
from ocf_agents.lab.drill import Drill, StepResult, summary
from ocf_agents.lab.drill.probes import sync_status
from ocf_agents.lab.drill.resources import DBS
from ocf_agents.lab.drill.watch import wait_or_fail
from ocf_agents.lab.layout import NOWHERE, Node
from ocf_agents.ovs import ovsdb

STEP = "switchover-copy"
# handoff.receive_final_data and handoff.catch_up's lines (docs/ovndb-monitor-states.md).
COPYING = "copying the whole database from the demoted node instead"  # the barrier did not come
COPIED = "copied the demoted node's final data from"  # the copy is complete
HELD = "holds the demoted node's final data (barrier"  # the barrier came: no copy
PROBE_MS = METADATA.parameter("inactive_probe_interval_to_master").default
AGENT_STAMP = re.compile(r"\t(\d{4}/\d\d/\d\d_\d\d:\d\d:\d\d) ")  # ocf.log's, whole seconds


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool) -> Iterator[Drill]:
    with brought_up_drill(lab_pool, 3) as drill:
        yield drill


class AgentLog:
    """What the agents log on a node from now on: its pacemaker.log (PCMK_logfile, where the
    agents write too), read from the node's disk; earlier lines, from an earlier test on the
    same lab, do not count."""

    def __init__(self, node: Node) -> None:
        self.path = node.dir / "log" / "pacemaker.log"
        self.offset = self.path.stat().st_size

    def lines(self, text: str) -> list[str]:
        new = self.path.read_bytes()[self.offset:].decode(errors="replace")
        return [line for line in new.splitlines() if text in line]


class Withheld:
    """The successor's replication pointed at nowhere before the move (``cut``), with the
    agent logs of every node from then on and, per client, the acknowledged writes the
    successor did not hold at the move."""

    def __init__(self) -> None:
        self.successor: Node | None = None
        self.logs: dict[Node, AgentLog] = {}
        self.missed: dict[str, list[int]] = {}

    def cut(self, drill: Drill, successor: Node) -> None:
        self.successor = successor
        self.logs = {node: AgentLog(node) for node in drill.lab.nodes}
        point_at_nowhere(drill, successor)
        moment = time.monotonic()
        drill.say(STEP, f"{successor.name}'s servers replicate from {NOWHERE}: it misses "
                        "the writes and the demote's barrier")
        for name in drill.clients:
            drill.wait_write_after(moment, client=name)
        held = own_switches(drill, successor)
        self.missed = {name: client.missing(held, [w for w in client.snapshot() if w.acked])
                       for name, client in drill.clients.items()}


def point_at_nowhere(drill: Drill, node: Node) -> None:
    """``node``'s backups replicate from the nowhere address (same port), as the agent points
    them (ovsdb.make_backup); returns once both servers say so."""
    targets = {db: nowhere_remote(drill, node, db) for db in DBS}
    for db, target in targets.items():
        for command in (["set-active-ovsdb-server", target],
                        ["set-active-ovsdb-server-probe-interval", PROBE_MS],
                        ["connect-active-ovsdb-server"]):
            drill.lab.run(node, ["ovs-appctl", "-t", f"/run/ovn/{db}.ctl",
                                 f"ovsdb-server/{command[0]}", *command[1:]])

    def following() -> bool:
        statuses = {db: sync_status(drill.lab, node, db) for db in DBS}
        return all(s is not None and s.sync_from == targets[db] for db, s in statuses.items())

    wait_or_fail(f"{node.name}'s servers to replicate from {NOWHERE}", following, timeout=10)


def nowhere_remote(drill: Drill, node: Node, db: str) -> str:
    """``db``'s replication remote on ``node`` with the nowhere address in its source's place."""
    status = sync_status(drill.lab, node, db)
    parsed = ovsdb.parse_remote(status.sync_from or "") if status else None
    assert parsed, f"{node.name}'s {db} does not replicate: {status}"
    return ovsdb.remote(parsed[0], NOWHERE, parsed[2])


def own_switches(drill: Drill, node: Node) -> set[str]:
    """The logical switches ``node``'s own northbound server holds (its unix socket)."""
    return set(drill.lab.run(node, [
        "ovn-nbctl", "--db=unix:/run/ovn/ovnnb_db.sock", "--timeout=10", "--bare",
        "--columns=name", "list", "Logical_Switch"]).stdout.split())


def copy_seconds(lines: list[str]) -> int | None:
    """Seconds from the first to the last of the agent's ``lines`` by their whole-second
    stamps (None without both)."""
    stamps = [datetime.datetime.strptime(m.group(1), "%Y/%m/%d_%H:%M:%S")
              for line in lines if (m := AGENT_STAMP.search(line))]
    return int((stamps[-1] - stamps[0]).total_seconds()) if len(stamps) > 1 else None


def switchover_to_a_cut_off_successor(drill: Drill, withheld: Withheld, r: StepResult) -> None:
    """The drill's switchover, its target cut off just before the move; the facts say what
    the successor missed and how long its copy took by its own log."""
    drill.switchover(r, before_move=lambda target: withheld.cut(drill, target))
    r.facts.update({f"missed by the successor ({name})": len(seqs)
                    for name, seqs in withheld.missed.items()})
    log = withheld.logs[withheld.successor]
    r.facts["copy (agent log, s)"] = copy_seconds(log.lines(COPYING) + log.lines(COPIED))


def test_a_successor_that_missed_the_barrier_copies_the_final_data_and_no_write_is_lost(
        drill: Drill) -> None:
    """The successor is promoted after copying the demoted node's final data, which its cut
    replication had withheld, while the other backup held the barrier; every write either
    client saw acknowledged is in the database, those the successor had missed too; both
    clients write again."""
    withheld = Withheld()
    result = drill.step(STEP, lambda r: switchover_to_a_cut_off_successor(drill, withheld, r))
    ended = time.monotonic()
    print(summary(drill))
    # The step fails on its own if the move's target is not promoted or a write was lost.
    assert result.ok, result.outcome
    old, new = drill.lab.node(result.promoted_before), drill.lab.node(result.promoted_after)
    assert new == withheld.successor
    assert all(withheld.missed.values()), f"the successor missed no write: {withheld.missed}"
    assert {name: tally.lost for name, tally in result.clients.items()} == \
        {name: 0 for name in drill.clients}
    log = withheld.logs[new]
    assert log.lines(COPYING), "the successor did not miss the demote's barrier"
    assert log.lines(f"{COPIED} {old.address}"), log.lines("demoted node")
    # The demote offered a barrier, which the backup left alone received: only the
    # successor's cut replication made it copy.
    [other] = set(drill.lab.nodes) - {old, new}
    assert withheld.logs[other].lines(HELD), f"{other.name} did not receive the barrier"
    for name in drill.clients:
        drill.wait_write_after(ended, client=name)
