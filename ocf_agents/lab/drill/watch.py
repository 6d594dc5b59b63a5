"""What the steps wait for: Pacemaker's view of the cluster, the backups replicating, the
promotion scores the agent sets, the writer's acknowledgements and the writes that survived.

Every wait is bounded; one that runs out fails the step (:class:`StepFailed`), not the lab:
the cluster did not do what a healthy HA setup does in that time, which is the drill's finding.
The agent's own facts (the stale score, the grace before a cut-off backup counts as stale) are
read from the agent, so that the drill waits for what the agent actually does.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, TypeVar

from ocf_agents.agents.ovndb.metadata import METADATA
from ocf_agents.agents.ovndb.position import GRACE_SLACK_MS

from .. import agents
from ..cluster import ClusterView
from ..fence_device import FenceEvent, read_events
from ..idl_writer import LongLivedWriter
from ..lab import Lab
from ..layout import OVNDB_VIP, LabError, Node
from ..proc import wait_until
from ..writer import Write, Writer, Writes, switches_in_nb
from .probes import holds_address, replicating
from .resources import OVNDB, OVNDB_VIP_RSC, PROMOTED_MONITOR_S, UNPROMOTED_MONITOR_S
from .results import CLIENTS, LONG_LIVED, ONE_SHOT, StepFailed, StepResult, fit
from .transitions import count, first_time

T = TypeVar("T")
CONVERGE_TIMEOUT = 60.0
SETTLED_TIMEOUT = 30.0  # a step starts from a settled cluster, or fails at once
SESSION_AGE_S = 2 * PROMOTED_MONITOR_S + 1  # a step's long-lived session is at least this old
STALE_SCORE = int(METADATA.parameter("stale_score").default)
# A cut-off backup keeps the replicating score while its last connected position is within the
# agent's grace (Position.within_grace: 2 monitor intervals + GRACE_SLACK_MS); its next
# monitor then scores it stale. 15 s to spare.
GRACE_S = 2 * UNPROMOTED_MONITOR_S + GRACE_SLACK_MS / 1000
STALE_TIMEOUT = GRACE_S + UNPROMOTED_MONITOR_S + 15


def wait_or_fail(what: str, check: Callable[[], T], timeout: float = CONVERGE_TIMEOUT,
                 interval: float = 0.2) -> T:
    """``wait_until``, failing the step when ``what`` does not happen in time."""
    try:
        return wait_until(what, check, timeout, interval)
    except LabError as err:
        raise StepFailed(str(err)) from None


TIMELINE_INDENT = len("[   0.00s] ") + 16 + 1  # where a timeline line's message begins


class Watch:
    """The lab as the steps see it, with its two writing clients (the one-shot ``writer``
    and the ``long_lived`` one), and the drill's clock: the timeline's times and the
    promotions it lists are seconds since the watch began."""

    def __init__(self, lab: Lab, writer: Writer, long_lived: LongLivedWriter,
                 say: Callable[[str], None]) -> None:
        self.lab = lab
        self.writer = writer
        self.long_lived = long_lived
        self.clients: dict[str, Writes] = {ONE_SHOT: writer, LONG_LIVED: long_lived}
        self._say = say
        self.started = time.monotonic()
        self.agent = lab.state.agent
        # The resource that moves master_ip; None when the promoted instance holds it itself
        # (the held configuration, resources.PROFILES).
        self.vip_resource: str | None = OVNDB_VIP_RSC
        self.known_lost: dict[str, set[int]] = {name: set() for name in CLIENTS}
        self.promotions: list[tuple[float, str]] = []

    def elapsed(self, moment: float | None = None) -> float:
        return (moment if moment is not None else time.monotonic()) - self.started

    def say(self, step: str, message: str) -> None:
        """A line of the timeline (``[ 12.34s] step  message``), a long message wrapped under
        itself within the summary's width."""
        for line in fit(f"[{self.elapsed():7.2f}s] {step:<16} {message}", " " * TIMELINE_INDENT):
            self._say(line)

    def observer(self, exclude: Node | None = None) -> Node:
        """A node to ask about the cluster: running and connected."""
        for node in self.lab.running():
            if node != exclude and not self.lab.is_cut_off(node):
                return node
        raise StepFailed("no running, connected node left to observe the cluster")

    def wait_view(self, what: str, predicate: Callable[[ClusterView], bool],
                  exclude: Node | None = None, timeout: float = CONVERGE_TIMEOUT) -> ClusterView:
        """Until the cluster, as a connected node sees it, is as ``predicate`` wants; a step
        that fails here says which actions failed, which is usually why."""
        observer = self.observer(exclude)
        try:
            return self.lab.wait_view(observer, what, predicate, timeout)
        except LabError as err:
            view = self.lab.view(observer)
            failures = f"; failed actions: {' | '.join(view.failures)}" if view and \
                view.failures else ""
            raise StepFailed(f"{err}{failures}") from None

    def promoted(self, exclude: Node | None = None, other_than: Node | None = None,
                 timeout: float = CONVERGE_TIMEOUT) -> Node:
        """Wait for exactly one promoted instance with the VIP on its node (not
        ``other_than``) and return that node."""
        def with_vip(v: ClusterView, nodes: list[str]) -> bool:
            if self.vip_resource is None:
                return [n.name for n in self.lab.nodes if holds_address(n, OVNDB_VIP)] == nodes
            return v.nodes_with(self.vip_resource) == nodes

        def settled(v: ClusterView) -> bool:
            nodes = v.promoted(OVNDB)
            return (len(nodes) == 1 and with_vip(v, nodes)
                    and (other_than is None or nodes[0] != other_than.name))
        view = self.wait_view("one promoted ovndb-servers with the VIP", settled, exclude,
                              timeout)
        node = self.lab.node(view.promoted(OVNDB)[0])
        if not self.promotions or self.promotions[-1][1] != node.name:
            self.promotions.append((self.elapsed(), node.name))
        return node

    def settled(self) -> Node:
        """The promoted node a step starts from; a step on an unsettled cluster (an earlier
        step left it broken) fails at once, saying so. The step starts once the long-lived
        client's session is older than two promoted monitors, as a real client's is (it
        holds it for days): the promoted node has then seen it twice, which is when our
        agent publishes it for the reset after a crash (reset_clients, docs/guide.md)."""
        try:
            node = self.promoted(timeout=SETTLED_TIMEOUT)
        except StepFailed as err:
            raise StepFailed(f"cluster not settled before the step: {err}") from None
        if self.long_lived.connections:
            time.sleep(max(0.0, self.long_lived.connections[-1] + SESSION_AGE_S - time.monotonic()))
        return node

    def wait_replicating(self, nodes: list[Node], timeout: float = CONVERGE_TIMEOUT) -> None:
        """Until ``nodes`` replicate from the VIP (at once for the floor, which has no
        replicas)."""
        if agents.replicated(self.agent):
            wait_or_fail(f"{', '.join(n.name for n in nodes)} replicating from the VIP",
                         lambda: all(replicating(self.lab, n) for n in nodes), timeout, 0.3)

    def wait_write_after(self, moment: float, timeout: float = CONVERGE_TIMEOUT,
                         client: str = ONE_SHOT) -> float:
        """Seconds from ``moment`` to the end of the first acknowledged write begun after it
        by ``client``; the long-lived client's death fails the step at once."""
        def acked() -> Write | None:
            death = self.long_lived.death()
            if death:
                raise StepFailed(death)
            return self.clients[client].first_ack_after(moment)
        write = wait_or_fail(f"an acknowledged write through the VIP by the {client} client",
                             acked, timeout, 0.05)
        return write.finished - moment

    def measure_outage(self, result: StepResult, fault: float) -> None:
        """Each client's outage since ``fault``: the longest time without an acknowledged
        write from then until the client writes again, counted from a write it begins once
        the step has seen the cluster recover (now): a write begun earlier may have been
        acknowledged by the old promoted node before the fault bit, and a client whose own
        retries outlast the step's waits (ovsdbapp's sleeps) must not pass for recovered."""
        recovered = time.monotonic()
        for name, client in self.clients.items():
            self.wait_write_after(recovered, client=name)
            result.clients[name].gap = client.longest_gap(fault, time.monotonic())
        self.say(result.name, "longest time without an acknowledged write: " + ", ".join(
            f"{name} {tally.gap:.2f}s" for name, tally in result.clients.items()))

    def count_transitions(self, result: StepResult, fault: float) -> None:
        """The transitions the DC calculated and aborted from ``fault`` (``time.time()``) to
        the VIP's start (the promote's end when the promoted instance holds master_ip), from
        every running node's pacemaker.log: facts ``transitions`` and ``aborts`` (the aborts'
        reasons in ``aborted by``), and the timing ``VIP started``."""
        year = time.localtime(fault).tm_year
        vip_started = (f"Result of start operation for {self.vip_resource} on " if self.vip_resource
                       else f"Result of promote operation for {OVNDB} on ")

        def logs() -> list[str]:
            return [log.read_text(errors="replace") for node in self.lab.nodes
                    if (log := node.dir / "log" / "pacemaker.log").exists()]

        until = wait_or_fail("the VIP's start in pacemaker.log",
                             lambda: first_time(logs(), vip_started, fault, year), timeout=10)
        found = count(logs(), fault, until, year)
        result.timings["VIP started"] = until - fault
        result.facts["transitions"] = len(found.calculated)
        result.facts["aborts"] = len(found.aborts)
        if found.aborts:
            result.facts["aborted by"] = "; ".join(found.aborts)
        self.say(result.name, f"{found} until the VIP started, {until - fault:.2f}s after the fault")

    def wait_fenced(self, result: StepResult, node: Node, fault: float) -> FenceEvent:
        """Until the lab's fence device has powered ``node`` off (or found it off) at the
        cluster's request after the fault at ``fault`` (wall clock, ``time.time()``); records
        the fence action and the time from the fault to the fence done."""
        def fenced() -> FenceEvent | None:
            return next((e for e in read_events(fault) if e.target == node.name
                         and e.action == "off" and e.ok), None)
        event = wait_or_fail(f"the cluster to fence {node.name}", fenced)
        result.timings["fenced"] = event.done - fault
        result.facts["fence"] = f"off {node.name} by {event.requester} ({event.message})"
        self.say(result.name, f"{node.name} fenced by {event.requester} "
                              f"{result.timings['fenced']:.2f}s after the fault: {event.message}")
        return event

    def score(self, node: Node) -> int | None:
        """``node``'s promotion score as the cluster holds it (None: none)."""
        proc = self.lab.run(self.observer(), [
            "crm_attribute", "--node", node.name, "--name", f"master-{OVNDB}", "--lifetime",
            "reboot", "--query", "--quiet"], check=False, timeout=10)
        try:
            return int(proc.stdout.strip())
        except ValueError:
            return None

    def wait_stale(self, stale: Node, fresh: Node) -> None:
        """Until the agent has given the cut-off backup the stale score, below the fresh
        one's; before that a crash of the promoted node would test nothing (the agent keeps
        a cut-off backup's score for its grace: every backup is cut off when the promoted
        node fails)."""
        def scores() -> bool:
            s, f = self.score(stale), self.score(fresh)
            return s == STALE_SCORE and f is not None and s < f
        wait_or_fail(f"{stale.name}'s promotion score to become the stale score "
                     f"{STALE_SCORE}, below {fresh.name}'s", scores, STALE_TIMEOUT, 0.5)

    def count_lost(self, result: StepResult, since: float) -> None:
        """Each client's acknowledged writes missing from the database now (new ones count
        for this step). The floor's servers do not replicate: there only the acknowledged
        writes count.

        The writes are taken before the database is read (:func:`acked_then_present`)."""
        replicated = agents.replicated(self.agent)
        acked, present = acked_then_present(self.clients.values(), replicated, self.writer.remote)
        if not replicated:
            result.facts["lost writes"] = "not counted (the floor replicates nothing)"
        for (name, client), writes in zip(self.clients.items(), acked):
            tally = result.clients[name]
            tally.acked = len([w for w in writes if w.finished >= since])
            if present is None:
                tally.lost = None
                continue
            missing = set(client.missing(present, writes))
            tally.lost = len(missing - self.known_lost[name])
            self.known_lost[name] |= missing


def acked_then_present(clients: Iterable[Writes], read: bool = True, remote: str | None = None
                       ) -> tuple[list[list[Write]], set[str] | None]:
    """Each client's acknowledged writes, THEN the switches the northbound database holds
    (through ``remote``, the VIP by default; None when ``read`` is false, e.g. on the floor,
    which replicates nothing).

    The order is what makes a missing write a lost one: a write acknowledged before the read
    began was committed before the server answered the read, so it must be there. Taken the
    other way round, a write the server committed just after answering the read, and
    acknowledged before the read's process had exited, counted as lost: 35 of 150 counts
    on a steady lab (none this way), the "lost" writes of the bring-up and of the drill's end
    that issue 15's notes could not explain.
    """
    acked = [[w for w in client.snapshot() if w.acked] for client in clients]
    if not read:
        return acked, None
    present = switches_in_nb(remote)
    if present is None:
        raise StepFailed(f"the northbound database does not answer through {remote or 'the VIP'}")
    return acked, present
