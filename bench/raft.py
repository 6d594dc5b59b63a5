"""``python -m bench.raft``: OVN's clustered (RAFT) databases on the lab's three nodes, a planned
leader transfer and a crash of the leader, with the clients and the measures of
bench/switchover.py (``make bench-raft``).

The yardstick operators hold our agent against (DESIGN.md): the same lab, chassis, database of
``--ports`` logical switch ports and clients, the databases clustered instead of replicated
under Pacemaker (ocf_agents/lab/raft.py: ovn-ctl on each node, ovn-northd on each, no
Pacemaker resource). The clients list the three members, as OpenStack does: the one-shot
writer (``ovn-nbctl --db=tcp:A:6641,tcp:B:6641,tcp:C:6641`` per write, attempts overlapping every
0.1 s while writes hang) and the long-lived client (``--long-lived``: the bare IDL, or
ovsdbapp as OpenStack's driver runs it, on the same three remotes). Each run is a fresh lab:

- **leader-transfer**: the northbound leader hands its leadership over (``cluster/failure-test
  transfer-leadership``: what a leader does by itself before it writes a snapshot; OVS has no
  other command for it, ocf_agents/lab/raft.py);
- **crash-leader**: the new leader's node powered off as the drill powers a node off (its
  whole PID namespace killed, its links cut until it boots again, after the lab's fencing of
  it), then booted and its servers started again from their files, until it is a member again;

then ``lab down``. Per step, measured by the drill's own code (``Watch``): each client's
longest time without an acknowledged write from the fault on (watched for WINDOW_S at least,
so that a client that leaves its member late is seen), the time from the fault to the new
leader's election (its own ``Last Election won``), and the acknowledged writes missing from
the database afterwards. Reported in bench/switchover.py's table (``lab_runs.Run``).

Needs root and the whole lab: hold the lab's lock around it (``flock /run/ocfa-lab.lock
python -m bench.raft``). Writes raft.md and raft.json into --output.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from ocf_agents.lab import lab as lab_mod
from ocf_agents.lab.drill.load import load_ports
from ocf_agents.lab.drill.results import StepFailed, StepResult
from ocf_agents.lab.drill.watch import Watch
from ocf_agents.lab.idl_writer import ClientSettings
from ocf_agents.lab.lab import Lab
from ocf_agents.lab.layout import LabError, Node
from ocf_agents.lab.raft import RaftCluster
from ocf_agents.lab.writer import Writer

from .failover import WRITER_SPACING
from .lab_runs import Run, add_client_options, client_settings, run_bench

CONFIGURATION = "raft"
SERVING = "new leader"  # the timing that says when the new leader served
STEADY_WRITES = 3  # each client's acknowledged writes after the cluster formed, before a fault
# A step's clients are watched at least this long after its fault: a client still on a member
# whose role changed (its session dropped only when it learns of the new leader) is seen.
WINDOW_S = 5.0


class RaftDrill(Watch):
    """The drill's two clients on the clustered northbound database, and its two faults."""

    def __init__(self, lab: Lab, cluster: RaftCluster, client: ClientSettings,
                 say: Callable[[str], None]) -> None:
        prefix = f"raft{int(time.time())}"
        super().__init__(lab, Writer(prefix, spacing=WRITER_SPACING, remote=cluster.nb_remote),
                         client.writer(f"{prefix}-idl", cluster.nb_remote), say)
        self.cluster = cluster

    def step(self, name: str, body: Callable[[StepResult], None]) -> StepResult:
        """``body``'s result, its outcome said by how it ended (as the drill's steps)."""
        result = StepResult(name)
        self.say(name, "begins")
        try:
            body(result)
            result.ok, result.outcome = True, "ok"
        except (StepFailed, LabError) as err:
            result.outcome = f"FAILED: {err}"
        self.say(name, result.outcome)
        return result

    def bring_up(self, ports: int) -> None:
        """Both clusters formed, ``ports`` loaded through the members, both clients writing."""
        self.cluster.start()
        if ports:
            load_ports(ports, self.cluster.nb_remote)
        began = time.monotonic()
        self.writer.start()
        self.long_lived.start()
        for client in self.clients:
            self.wait_write_after(began, client=client)

    def steady(self) -> Node:
        """The leader a fault starts from, once each client has had writes acknowledged since
        the cluster was seen whole (after a crash, the long-lived one has settled again)."""
        leader = self.cluster.wait_formed()
        for _ in range(STEADY_WRITES):
            moment = time.monotonic()
            for name in self.clients:
                self.wait_write_after(moment, client=name)
        return leader

    def leader_transfer(self, r: StepResult) -> None:
        """The leader hands its leadership to another member."""
        before = self.steady()
        r.promoted_before = before.name
        t0 = time.monotonic()
        self.cluster.transfer(before)
        self.elected(r, before, t0)
        self.measured(r, t0)

    def crash_leader(self, r: StepResult) -> None:
        """The leader's node powered off, fenced, booted again, a member again."""
        before = self.steady()
        r.promoted_before = before.name
        t0, r.moments["crash"] = time.monotonic(), time.time()
        self.lab.crash(before)
        self.lab.isolate(before)  # powered off: its address answers nothing until it boots
        self.elected(r, before, t0)
        self.wait_fenced(r, before, r.moments["crash"])
        self.lab.heal(before)
        self.lab.start(before)
        self.cluster.start_node(before)
        self.cluster.wait_formed()
        r.timings["rejoined"] = time.monotonic() - t0
        self.measured(r, t0)

    def measured(self, r: StepResult, fault: float) -> None:
        """The clients' outage and lost writes since ``fault``, watched for WINDOW_S at
        least, and how many sessions the long-lived client opened meanwhile."""
        time.sleep(max(0.0, fault + WINDOW_S - time.monotonic()))
        self.measure_outage(r, fault)
        self.count_lost(r, fault)
        sessions = len([t for t in self.long_lived.connections if t >= fault])
        r.facts["long-lived sessions"] = sessions
        self.say(r.name, f"the long-lived client opened {sessions} new session(s)")

    def elected(self, r: StepResult, before: Node, fault: float) -> None:
        """The new leader, when it won, and the clients' first writes after ``fault``."""
        after, won = self.cluster.wait_leader(other_than=before)
        r.promoted_after = after.name
        r.timings[SERVING] = max(0.0, won - fault)  # "won N ms ago" counts whole milliseconds
        r.timings["first write"] = self.wait_write_after(fault)
        self.say(r.name, f"{after.name} leads since {r.timings[SERVING]:.2f}s after the fault")


STEPS = {"leader-transfer": "leader_transfer", "crash-leader": "crash_leader"}


def one_run(index: int, ports: int, client: ClientSettings, log: Callable[[str], None]) -> list[Run]:
    """A fresh lab, the clustered databases, a leader transfer and a crash of the leader,
    lab down."""
    lab = lab_mod.up(3, say=log)
    try:
        drill = RaftDrill(lab, RaftCluster(lab), client, log)
        try:
            brought_up = drill.step("bring-up", lambda r: drill.bring_up(ports))
            if not brought_up.ok:
                return Run.failed(CONFIGURATION, index, list(STEPS), f"bring-up: {brought_up.outcome}")
            return [Run.of(CONFIGURATION, index, drill.step(step, getattr(drill, method)), SERVING)
                    for step, method in STEPS.items()]
        finally:
            drill.writer.stop()
            drill.long_lived.stop()
    finally:
        lab_mod.down(say=log)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.raft", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs, each a transfer and a crash (default 5)")
    parser.add_argument("--ports", type=int, default=1000, help="logical switch ports loaded first (default 1000)")
    add_client_options(parser)
    parser.add_argument("--output", type=Path, default=Path("build/bench"), help="directory of the results")
    return parser.parse_args(argv)


TITLE = "OVN's clustered (RAFT) databases in the lab: a leader transfer and a leader's crash"
ABOUT = ("Each run: a fresh 3-node lab, clustered northbound and southbound databases on the nodes (ovn-ctl, "
         "ovn-northd on each), the clients on the three members, a leader transfer, then the new leader's node "
         "powered off. Seconds from the fault: the longest time without an acknowledged write of the one-shot "
         "writer (an ovn-nbctl per write) and of the long-lived client, and the new leader's election. "
         "Median (min-max).")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    client = client_settings(args)
    return run_bench("bench.raft", "raft", args, argv,
                     f"3 nodes, NB and SB clustered (election timer 1 s), {args.ports} logical switch ports",
                     [CONFIGURATION], lambda name, index, log: one_run(index, args.ports, client, log), TITLE, ABOUT)


if __name__ == "__main__":
    sys.exit(main())
