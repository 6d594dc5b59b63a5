"""``ocf-agents drill``: fail-over scenarios on the lab, with a timeline and a summary.

Each scenario is one step: it acts on the cluster (a crash, a move, a kill, a partition),
watches what Pacemaker and our agents do, and records the outcome (who is promoted, where the
addresses are, which acknowledged writes are missing) and how long things took. Timings are
printed, never judged: a slow machine is not a failed drill. Every step leaves the lab whole
again (nodes running, links up, routes removed), so the next step starts from a healthy
cluster, and so do tests that run the steps one at a time.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import ocf_agents
from ocf_agents.setup.apply import ApplyError, apply
from ocf_agents.setup.build import OvndbOptions
from ocf_agents.setup.command import pcs_version
from ocf_agents.setup.render_pcs import render

from . import agents
from .cluster import ClusterView
from .lab import Lab
from .layout import NOWHERE, OVNDB_VIP, OVS_BRIDGE, PORT_VIP, LabError, Node
from .nodes import exec_argv, init_pid
from .proc import run, wait_until
from .writer import Writer, in_client_netns, switches_in_nb

OVNDB = "ovndb_servers"
OVNDB_CLONE = f"{OVNDB}-clone"
OVNDB_VIP_RSC = f"{OVNDB}-vip"
PORT_IFACE = "labport0"
PORT_RSC = f"{PORT_IFACE}-port"
PROMOTED_MONITOR_S, UNPROMOTED_MONITOR_S = 5, 7  # shorter than the defaults: a drill is short
# `ocf-agents setup ovndb` options of the database role, whichever agent runs it.
OVNDB_SETUP = {
    "master_ip": OVNDB_VIP, "vip_netmask": "24", "vip_nic": "eth0",
    "promoted_monitor_interval": str(PROMOTED_MONITOR_S),
    "monitor_interval": str(UNPROMOTED_MONITOR_S),
}
DBS = ("ovnnb_db", "ovnsb_db")
CONVERGE_TIMEOUT = 60.0
SETTLED_TIMEOUT = 30.0  # a step starts from a settled cluster, or fails at once
STALE_SCORE = 1  # the agent's default stale_score
# A cut-off backup keeps the replicating score for 2 monitor intervals + 4 s after it was last
# seen connected (the agent's grace), then its next monitor scores it stale.
STALE_TIMEOUT = 3 * UNPROMOTED_MONITOR_S + 4 + 15


class StepFailed(Exception):
    """The step's outcome is not what a healthy HA setup gives (the reason says what)."""


class StepSkipped(Exception):
    """The step does not apply to this lab (the reason says why)."""


@dataclass
class StepResult:
    name: str
    ok: bool = False
    outcome: str = ""
    promoted_before: str = "-"
    promoted_after: str = "-"
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    acked: int = 0
    lost: int = 0
    # time.time() of the step's key moments (not printed), to match against the cluster's logs
    moments: dict[str, float] = field(default_factory=dict)


def setup_argv(*args: str) -> list[str]:
    """``ocf-agents setup ...`` from this package, to run inside a node."""
    root = str(Path(ocf_agents.__file__).resolve().parent.parent)
    return ["env", f"PYTHONPATH={root}", sys.executable, "-m", "ocf_agents.cli", "setup", *args]


def ovndb_setup_argv(agent: str, provider: str) -> list[str]:
    """``ocf-agents setup ovndb ... --apply`` for our agent or OVN's (same options; ours
    also gets its nowhere address, OVN's has its own hard-coded one)."""
    options = [arg for key, value in OVNDB_SETUP.items()
               for arg in (f"--{key.replace('_', '-')}", value)]
    if agent == agents.OVN:
        return setup_argv("ovndb", *options, "--provider", agents.OVN_LAB_PROVIDER, "--apply")
    return setup_argv("ovndb", *options, "--provider", provider,
                      "--param", f"nowhere_ip={NOWHERE}", "--apply")


def apply_stateful_setup(lab: Lab, node: Node) -> None:
    """The same setup with Pacemaker's Stateful in the clone (agents.stateful_setup), applied
    by ``ocf-agents setup``'s own applier with pcs running inside ``node``."""
    def in_node(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
        return subprocess.run(exec_argv(node, list(argv)), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=180, check=False)
    steps = render(agents.stateful_setup(OvndbOptions(**OVNDB_SETUP)), pcs_version(None))
    try:
        apply(steps, None, io.StringIO(), run=in_node)
    except ApplyError as err:
        raise LabError(str(err)) from None


def sync_status(lab: Lab, node: Node, db: str) -> dict[str, str] | None:
    """``ovsdb-server/sync-status`` of one database server as key -> value, None if it does
    not answer (stopped, or the node is down)."""
    if init_pid(node) is None:
        return None
    proc = lab.run(node, ["ovs-appctl", "-T", "5", "-t", f"/run/ovn/{db}.ctl",
                          "ovsdb-server/sync-status"], check=False, timeout=10)
    if not proc.ok:
        return None
    return dict(re.findall(r"^(\w[\w ]*):\s*(.*)$", proc.stdout, re.MULTILINE))


def replicating(lab: Lab, node: Node) -> bool:
    """Both databases of ``node`` are backups replicating from the VIP."""
    for db in DBS:
        status = sync_status(lab, node, db)
        if not status or status.get("state") != "backup" or OVNDB_VIP not in status.get(
                "replicating", ""):
            return False
    return True


def accepting_writes(lab: Lab, node: Node) -> bool:
    status = sync_status(lab, node, "ovnnb_db")
    return bool(status) and status.get("state") == "active"


class Drill:
    """The scenarios, sharing one lab and one writing client."""

    def __init__(self, lab: Lab,
                 say: Callable[[str], None] = lambda line: print(line, flush=True),
                 writer_spacing: float | None = None) -> None:
        self.lab = lab
        self._say = say
        self.started = time.monotonic()
        self.agent = lab.state.agent
        self.writer = Writer(prefix=f"drill{int(time.time())}", spacing=writer_spacing)
        self.results: list[StepResult] = []
        self.known_lost: set[int] = set()
        self.promotions: list[tuple[float, str]] = []

    # -- output ---------------------------------------------------------------------------
    def elapsed(self, moment: float | None = None) -> float:
        return (moment if moment is not None else time.monotonic()) - self.started

    def say(self, step: str, message: str) -> None:
        self._say(f"[{self.elapsed():7.2f}s] {step:<16} {message}")

    # -- looking at the cluster -----------------------------------------------------------
    def observer(self, exclude: Node | None = None) -> Node:
        """A node to ask about the cluster: running and connected."""
        for node in self.lab.running():
            if node != exclude and not self.lab.is_cut_off(node):
                return node
        raise StepFailed("no running, connected node left to observe the cluster")

    def wait_view(self, what: str, predicate: Callable[[ClusterView], bool],
                  exclude: Node | None = None, timeout: float = CONVERGE_TIMEOUT) -> ClusterView:
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
        what = "one promoted ovndb-servers with the VIP"
        def settled(v: ClusterView) -> bool:
            nodes = v.promoted(OVNDB)
            return (len(nodes) == 1 and v.nodes_with(OVNDB_VIP_RSC) == nodes
                    and (other_than is None or nodes[0] != other_than.name))
        view = self.wait_view(what, settled, exclude, timeout)
        node = self.lab.node(view.promoted(OVNDB)[0])
        if not self.promotions or self.promotions[-1][1] != node.name:
            self.promotions.append((self.elapsed(), node.name))
        return node

    def settled(self) -> Node:
        """The promoted node a step starts from; a step on an unsettled cluster (an earlier
        step left it broken) fails at once, saying so."""
        try:
            return self.promoted(timeout=SETTLED_TIMEOUT)
        except StepFailed as err:
            raise StepFailed(f"cluster not settled before the step: {err}") from None

    def needs_database(self) -> None:
        """Steps about replicated data do not apply to the Stateful floor (agents.py)."""
        if not agents.replicated(self.agent):
            raise StepSkipped("Pacemaker's Stateful (the floor) runs no replicated database")

    def wait_replicating(self, nodes: list[Node], timeout: float = CONVERGE_TIMEOUT) -> None:
        """Until ``nodes`` replicate from the VIP (at once for the floor, which has no
        replicas)."""
        if not agents.replicated(self.agent):
            return
        try:
            wait_until(f"{', '.join(n.name for n in nodes)} replicating from the VIP",
                       lambda: all(replicating(self.lab, n) for n in nodes), timeout, 0.3)
        except LabError as err:
            raise StepFailed(str(err)) from None

    def wait_write_after(self, moment: float, timeout: float = CONVERGE_TIMEOUT) -> float:
        """Seconds from ``moment`` to the end of the first acknowledged write begun after it."""
        try:
            write = wait_until("an acknowledged write through the VIP",
                               lambda: self.writer.first_ack_after(moment), timeout, 0.05)
        except LabError as err:
            raise StepFailed(str(err)) from None
        return write.finished - moment

    def count_lost(self, result: StepResult, since: float) -> None:
        """Acknowledged writes missing from the database now (new ones count for this step).
        The floor's servers do not replicate: there only the acknowledged writes count."""
        if not agents.replicated(self.agent):
            result.acked = len([w for w in self.writer.snapshot()
                                if w.acked and w.finished >= since])
            result.facts["lost writes"] = "not counted (the floor replicates nothing)"
            return
        present = switches_in_nb()
        if present is None:
            raise StepFailed("the northbound database does not answer through the VIP")
        acked = [w for w in self.writer.snapshot() if w.acked]
        missing = set(self.writer.missing(present, acked))
        result.acked = len([w for w in acked if w.finished >= since])
        result.lost = len(missing - self.known_lost)
        self.known_lost |= missing

    def restore(self) -> None:
        """Leave the lab whole: every node connected and running, failures forgotten (a
        failure count left by one step must not steer the next one)."""
        for node in self.lab.nodes:
            self.lab.heal(node)
        for node in self.lab.nodes:
            if init_pid(node) is None:
                self.say("restore", f"starting {node.name}")
                self.lab.start(node)
        observer = self.observer()
        self.lab.run(observer, ["crm_resource", "--cleanup"], check=False)
        # ...and the re-probes that follow finished: the next step starts from a still cluster.
        self.lab.run(observer, ["crm_resource", "--wait", f"--timeout={SETTLED_TIMEOUT:.0f}s"],
                     check=False, timeout=SETTLED_TIMEOUT + 10)

    # -- running steps -------------------------------------------------------------------
    def step(self, name: str, body: Callable[[StepResult], None]) -> StepResult:
        result = StepResult(name)
        self.say(name, "begins")
        begun = time.monotonic()
        try:
            body(result)
            result.ok, result.outcome = True, "ok"
        except StepSkipped as err:
            result.ok, result.outcome = True, f"skipped: {err}"
        except StepFailed as err:
            result.outcome = f"FAILED: {err}"
        except LabError as err:
            result.outcome = f"FAILED (lab): {err}"
        finally:
            try:
                self.restore()
            except LabError as err:
                result.ok = False
                result.outcome += f"; lab not restored: {err}"
        result.timings.setdefault("step", time.monotonic() - begun)
        self.say(name, result.outcome)
        self.results.append(result)
        return result

    # -- the scenarios ---------------------------------------------------------------------
    def bring_up(self, r: StepResult) -> None:
        """``ocf-agents setup`` applies the ovndb-servers clone (or the same clone of the
        lab's agent, agents.py) with its VIP, and the OVSPort group; one node is promoted,
        the others replicate; the writer starts."""
        provider = self.lab.state.provider
        first = self.observer()
        t0 = time.monotonic()
        if self.agent == agents.STATEFUL:
            apply_stateful_setup(self.lab, first)
        else:
            self.lab.run(first, ovndb_setup_argv(self.agent, provider), timeout=180)
        self.lab.run(first, setup_argv(
            "port", "--bridge", OVS_BRIDGE, "--interface", PORT_IFACE, "--ip", PORT_VIP,
            "--netmask", "24", "--provider", provider, "--apply"), timeout=180)
        r.timings["setup commands"] = time.monotonic() - t0
        self.say(r.name, f"setup applied in {r.timings['setup commands']:.1f}s")
        t1 = time.monotonic()
        promoted = self.promoted()
        r.promoted_after = promoted.name
        r.timings["promoted+VIP"] = time.monotonic() - t1
        self.say(r.name, f"{promoted.name} promoted ({self.agent}), VIP {OVNDB_VIP} there")
        backups = [n for n in self.lab.nodes if n != promoted]
        if agents.replicated(self.agent):
            self.wait_replicating(backups)
            r.timings["backups replicating"] = time.monotonic() - t1
            self.say(r.name, f"{', '.join(n.name for n in backups)} replicating")
        view = self.wait_view("the OVSPort group started",
                              lambda v: len(v.nodes_with(PORT_RSC)) == 1)
        r.facts["port group on"] = view.nodes_with(PORT_RSC)[0]
        t2 = time.monotonic()
        self.writer.start()
        r.timings["first write"] = self.wait_write_after(t2)
        self.say(r.name, f"writer acknowledged its first write after "
                         f"{r.timings['first write']:.2f}s")
        self.count_lost(r, t0)

    def switchover(self, r: StepResult) -> None:
        """A planned move of the promoted role: demote, then promote elsewhere; no
        acknowledged write may be lost."""
        self.needs_database()
        before = self.settled()
        target = next(n for n in self.lab.nodes if n != before and replicating(self.lab, n))
        r.promoted_before = before.name
        t0 = time.monotonic()
        self.say(r.name, f"crm_resource --move {OVNDB_CLONE} to {target.name} --promoted")
        self.lab.run(self.observer(), ["crm_resource", "--move", "-r", OVNDB_CLONE, "-N",
                                       target.name, "--promoted"])
        try:
            after = self.promoted(other_than=before)
        finally:
            self.lab.run(self.observer(), ["crm_resource", "--clear", "-r", OVNDB_CLONE])
        r.promoted_after = after.name
        r.timings["moved"] = time.monotonic() - t0
        r.timings["first write"] = self.wait_write_after(t0)
        self.wait_replicating([n for n in self.lab.nodes if n != after])
        r.timings["longest write gap"] = self.writer.longest_gap(t0, time.monotonic())
        self.say(r.name, f"{after.name} promoted after {r.timings['moved']:.2f}s, longest "
                         f"gap between writes {r.timings['longest write gap']:.2f}s")
        self.count_lost(r, t0)
        if after != target:
            raise StepFailed(f"{after.name} was promoted, not the move's target {target.name}")
        if r.lost:
            raise StepFailed(f"{r.lost} acknowledged writes lost in a planned switchover")

    def kill_db_server(self, r: StepResult) -> None:
        """SIGKILL the northbound ovsdb-server of the promoted node: Pacemaker's monitor
        notices and recovers; how long until writes are accepted again."""
        self.needs_database()
        before = self.settled()
        r.promoted_before = before.name
        pid = self.lab.run(before, ["cat", "/run/ovn/ovnnb_db.pid"]).stdout.strip()
        t0 = time.monotonic()
        self.lab.run(before, ["kill", "-KILL", pid])
        self.say(r.name, f"killed ovsdb-server (NB, pid {pid} in {before.name})")
        r.timings["first write"] = self.wait_write_after(t0)
        after = self.promoted()
        r.promoted_after = after.name
        self.say(r.name, f"writes accepted again after {r.timings['first write']:.2f}s "
                         f"({after.name} promoted)")
        self.wait_replicating([n for n in self.lab.nodes if n != after])
        r.timings["all replicating"] = time.monotonic() - t0
        self.count_lost(r, t0)

    def crash_promoted(self, r: StepResult) -> None:
        """SIGKILL the promoted node's whole namespace; the time to the first write accepted
        by the new promoted node, and the acknowledged writes that did not survive. Then the
        node boots again and must rejoin as a replicating backup."""
        before = self.settled()
        r.promoted_before = before.name
        t0 = time.monotonic()
        r.moments["crash"] = time.time()
        self.lab.crash(before)
        self.say(r.name, f"crashed {before.name}")
        r.timings["first write"] = self.wait_write_after(t0)
        after = self.promoted(other_than=before)
        r.promoted_after = after.name
        r.timings["promoted elsewhere"] = time.monotonic() - t0
        self.say(r.name, f"{after.name} promoted; first write accepted after "
                         f"{r.timings['first write']:.2f}s")
        self._rejoin(r, before)
        self.count_lost(r, t0)

    def _rejoin(self, r: StepResult, node: Node) -> None:
        """Boot a crashed node: it must come back as a backup replicating from the VIP."""
        t0 = time.monotonic()
        self.lab.start(node)
        self.wait_view(f"{node.name} back unpromoted",
                       lambda v: node.name in v.nodes_with(OVNDB, "Unpromoted"))
        self.wait_replicating([node])
        r.timings["rejoined"] = time.monotonic() - t0
        r.facts["rejoined as"] = ("replicating backup" if agents.replicated(self.agent)
                                  else "unpromoted")
        self.say(r.name, f"{node.name} rejoined as {r.facts['rejoined as']} after "
                         f"{r.timings['rejoined']:.2f}s")

    def stale_replica(self, r: StepResult) -> None:
        """Cut one backup's replication, keep writing, crash the promoted node: the fresh
        backup must be promoted, not the stale one."""
        self.needs_database()
        if len(self.lab.nodes) < 3:
            raise StepSkipped("needs a 3-node lab")
        before = self.settled()
        r.promoted_before = before.name
        stale, fresh = [n for n in self.lab.nodes if n != before]
        self.say(r.name, f"cutting {stale.name}'s replication (route to the VIP prohibited, "
                         f"connections dropped)")
        self.lab.run(stale, ["ip", "route", "add", "prohibit", f"{OVNDB_VIP}/32"])
        try:
            for db in DBS:  # the established connections outlive a new route: drop them
                self.lab.run(stale, ["ovs-appctl", "-t", f"/run/ovn/{db}.ctl",
                                     "ovsdb-server/disconnect-active-ovsdb-server"])
            t_cut = time.monotonic()
            self._wait_stale(stale, fresh)
            self.wait_write_after(time.monotonic())  # a write the stale one cannot have
            r.facts["stale"], r.facts["fresh"] = stale.name, fresh.name
            t0 = time.monotonic()
            r.timings["cut before crash"] = t0 - t_cut
            self.lab.crash(before)
            self.say(r.name, f"crashed {before.name}")
            after = self.promoted(other_than=before)
            r.promoted_after = after.name
            r.timings["promoted elsewhere"] = time.monotonic() - t0
            r.timings["first write"] = self.wait_write_after(t0)
            self.say(r.name, f"{after.name} promoted after {r.timings['promoted elsewhere']:.2f}s")
        finally:
            self.lab.run(stale, ["ip", "route", "del", "prohibit", f"{OVNDB_VIP}/32"],
                         check=False)
        if after != fresh:
            raise StepFailed(f"the stale replica {stale.name} was promoted")
        self._rejoin(r, before)
        self.wait_replicating([stale])
        self.count_lost(r, t0)

    def _wait_stale(self, stale: Node, fresh: Node) -> None:
        """Until the agent has given the cut-off backup the stale score, below the fresh
        one's; before that the crash would test nothing (the agent keeps a cut-off backup's
        score for a grace period: every backup is cut off when the promoted node fails)."""
        def scores() -> bool:
            s, f = self.score(stale), self.score(fresh)
            return s == STALE_SCORE and f is not None and s < f
        try:
            wait_until(f"{stale.name}'s promotion score to become the stale score "
                       f"{STALE_SCORE}, below {fresh.name}'s", scores,
                       timeout=STALE_TIMEOUT, interval=0.5)
        except LabError as err:
            raise StepFailed(str(err)) from None
        self.say("stale-replica", f"{stale.name} scored {self.score(stale)}, "
                                  f"{fresh.name} {self.score(fresh)}")

    def score(self, node: Node) -> int | None:
        proc = self.lab.run(self.observer(), [
            "crm_attribute", "--node", node.name, "--name", f"master-{OVNDB}", "--lifetime",
            "reboot", "--query", "--quiet"], check=False, timeout=10)
        try:
            return int(proc.stdout.strip())
        except ValueError:
            return None

    def partition(self, r: StepResult) -> None:
        """Cut the promoted node off a 3-node cluster: the majority promotes another node,
        the minority stops its resources; never two databases accepting writes at once;
        after healing, the old node rejoins as a backup."""
        self.needs_database()
        if len(self.lab.nodes) < 3:
            raise StepSkipped("needs a 3-node lab")
        before = self.settled()
        r.promoted_before = before.name
        sampler = ActiveSampler(self.lab)
        sampler.start()
        try:
            t0 = time.monotonic()
            self.lab.isolate(before)
            self.say(r.name, f"isolated {before.name}")
            after = self.promoted(exclude=before, other_than=before)
            r.promoted_after = after.name
            r.timings["majority promoted"] = time.monotonic() - t0
            try:
                self.lab.wait_view(before, f"{before.name} to stop its resources",
                                   lambda v: not [p for p in v.placements if p.node ==
                                                  before.name], CONVERGE_TIMEOUT)
            except LabError as err:
                raise StepFailed(str(err)) from None
            r.timings["minority stopped"] = time.monotonic() - t0
            self.say(r.name, f"majority promoted {after.name} after "
                             f"{r.timings['majority promoted']:.2f}s; {before.name} stopped "
                             f"its resources after {r.timings['minority stopped']:.2f}s")
            r.timings["first write"] = self.wait_write_after(t0)
        finally:
            sampler.stop()
        r.facts["max writable at once"] = sampler.max_writable
        r.facts["max active at once"] = sampler.max_active
        r.facts["max VIP holders at once"] = sampler.max_vip_holders
        if sampler.max_active > 1:
            self.say(r.name, f"note: {sampler.max_active} servers were active at once for "
                             f"about {sampler.active_overlap_s:.1f}s (no fencing in the lab), "
                             f"{sampler.max_vip_holders} holding the VIP, never more than "
                             f"{sampler.max_writable} that clients could reach")
        t1 = time.monotonic()
        self.lab.heal(before)
        self.say(r.name, f"healed {before.name}")
        self.wait_view(f"{before.name} back unpromoted",
                       lambda v: before.name in v.nodes_with(OVNDB, "Unpromoted"))
        self.wait_replicating([before])
        r.timings["rejoined"] = time.monotonic() - t1
        self.say(r.name, f"{before.name} rejoined as a replicating backup after "
                         f"{r.timings['rejoined']:.2f}s")
        self.count_lost(r, t0)
        if sampler.max_writable > 1:
            raise StepFailed(f"{sampler.max_writable} nodes that clients could reach accepted "
                             f"writes through the VIP at the same time ({sampler.overlap})")

    def port_failover(self, r: StepResult) -> None:
        """Crash the node that holds the OVSPort group: the port, its MAC and its address
        move together, so the client's neighbour entry stays right and traffic resumes."""
        view = self.wait_view("the OVSPort group placed",
                              lambda v: len(v.nodes_with(PORT_RSC)) == 1)
        holder = self.lab.node(view.nodes_with(PORT_RSC)[0])
        r.promoted_before = f"port@{holder.name}"
        if not client_ping(PORT_VIP):
            raise StepFailed(f"{PORT_VIP} does not answer the client before the fail-over")
        mac_before = client_neighbour(PORT_VIP)
        r.facts["MAC before"] = mac_before
        t0 = time.monotonic()
        self.lab.crash(holder)
        self.say(r.name, f"crashed {holder.name}, which held {PORT_RSC} ({mac_before})")
        try:
            wait_until(f"{PORT_VIP} to answer again", lambda: client_ping(PORT_VIP),
                       CONVERGE_TIMEOUT, 0)
        except LabError as err:
            raise StepFailed(str(err)) from None
        r.timings["traffic resumed"] = time.monotonic() - t0
        mac_after = client_neighbour(PORT_VIP)
        r.facts["MAC after"] = mac_after
        view = self.wait_view("the OVSPort group started elsewhere",
                              lambda v: v.nodes_with(PORT_RSC) not in ([], [holder.name]),
                              exclude=holder)
        r.promoted_after = f"port@{view.nodes_with(PORT_RSC)[0]}"
        self.say(r.name, f"traffic resumed after {r.timings['traffic resumed']:.2f}s, "
                         f"neighbour entry {mac_after}")
        if mac_after != mac_before:
            raise StepFailed(f"the client's neighbour entry changed: {mac_before} -> {mac_after}")

    # -- the whole drill -----------------------------------------------------------------
    STEPS: dict[str, str] = {
        "switchover": "switchover",
        "kill-db-server": "kill_db_server",
        "crash-promoted": "crash_promoted",
        "stale-replica": "stale_replica",
        "partition": "partition",
        "port-failover": "port_failover",
    }

    def run_all(self, only: list[str] | None = None) -> bool:
        try:
            if not self.step("bring-up", self.bring_up).ok:
                return False
            for name, method in self.STEPS.items():
                if not only or name in only:
                    self.step(name, getattr(self, method))
        finally:
            self.writer.stop()
        return all(r.ok for r in self.results)


class ActiveSampler:
    """Samples, from outside, which nodes accept writes, every 0.1 s.

    *Active*: the node's northbound server is ``active``. *Writable*: active and holding the
    VIP, so that a client can reach it. Without fencing, a cut-off node may stay active for a
    moment after the majority promoted another one (Pacemaker cannot wait for a node it
    cannot reach); the configured order (VIP stopped before the demote, started after the
    promote) is what must keep two nodes from being writable at once. A node cut off by
    ``isolate`` has every link down, so no client can write to it: it counts as writable only
    while it is reachable. Active servers and VIP holders are counted regardless, and the step
    prints them: that overlap is what fencing closes in production.
    """

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.max_active = self.max_writable = self.max_vip_holders = 0
        self.overlap = ""
        self.active_overlap_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="active-sampler", daemon=True)

    def _loop(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            active = [n for n in self.lab.running() if accepting_writes(self.lab, n)]
            with_vip = [n for n in active if holds_address(n, OVNDB_VIP)]
            self.max_vip_holders = max(self.max_vip_holders, len(with_vip))
            writable = [n.name for n in with_vip if not self.lab.is_cut_off(n)]
            now = time.monotonic()
            if len(active) > 1:
                self.active_overlap_s += now - last
            last = now
            self.max_active = max(self.max_active, len(active))
            if len(writable) > self.max_writable:
                self.max_writable, self.overlap = len(writable), "+".join(writable)
            self._stop.wait(0.1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def holds_address(node: Node, address: str) -> bool:
    out = run(["ip", "-netns", node.netns, "-4", "-o", "addr", "show"], check=False).stdout
    return f"inet {address}/" in out


def client_ping(address: str) -> bool:
    return subprocess.run(in_client_netns(["ping", "-c", "1", "-W", "1", address]),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          stdin=subprocess.DEVNULL, timeout=10).returncode == 0


def client_neighbour(address: str) -> str:
    """The MAC the client's neighbour table holds for ``address`` ("" when none)."""
    out = run(in_client_netns(["ip", "neigh", "show", address])).stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else ""


def summary(drill: Drill) -> str:
    """The table printed at the end of the drill."""
    rows = [("step", "result", "promoted", "timings (s)", "acked", "lost")]
    for r in drill.results:
        timings = ", ".join(f"{k} {v:.2f}" for k, v in r.timings.items() if k != "step")
        facts = "; ".join(f"{k}: {v}" for k, v in r.facts.items())
        rows.append((r.name, r.outcome.split(":")[0],
                     f"{r.promoted_before} -> {r.promoted_after}", timings,
                     str(r.acked), str(r.lost)))
        if facts:
            rows.append(("", "", "", facts, "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    acked = len([w for w in drill.writer.snapshot() if w.acked])
    lines.append(f"writes: {len(drill.writer.snapshot())} attempted, {acked} acknowledged, "
                 f"{len(drill.known_lost)} acknowledged writes lost in all")
    lines.append("promoted: " + ", ".join(f"{name} at {t:.1f}s" for t, name in drill.promotions))
    for r in drill.results:
        if r.outcome != "ok":
            lines.append(f"{r.name}: {r.outcome}")
    return "\n".join(lines)


def run_drill(lab: Lab, only: list[str] | None = None) -> int:
    unknown = set(only or ()) - set(Drill.STEPS)
    if unknown:
        raise LabError(f"unknown step {', '.join(sorted(unknown))} "
                       f"(steps: {', '.join(Drill.STEPS)})")
    drill = Drill(lab)
    ok = drill.run_all(only)
    print("\n" + summary(drill))
    return 0 if ok else 1
