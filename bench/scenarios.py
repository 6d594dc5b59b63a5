"""What the benchmark measures: Pacemaker's actions on the pair, one agent then the other.

Every measured step runs once with each agent in turn (ours, OVN's, ours, OVN's...) on the
same two nodes, so that a drift of the machine's load hits both alike. The transitions are
driven the way Pacemaker drives a promotable clone with ``notify=true``: the notify variables
of the whole transition are given to every action and notification in it, the VIP leaves the
old promoted node before its demote and reaches the new one after its promote. During every
switchover a client writes through the VIP (writer.py): its write outage, and the acknowledged
writes the new promoted node lacks.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import ovsdb_rpc
from .pair import NB_PORT, SB_PORT, VIP, BenchError, Node, Pair, Timing, notify_vars
from .writer import ClientWriter, handover, lost, outage

AGENT_ORDER = ("ours", "theirs")
MEASURED, SETTLE, FORCED = "measured", "settle", "forced fallback"  # the kinds of switchover
WRITER_PREFIX = "bench-writer-"  # the client's logical switches: bench-writer-<switchover>-<seq>
BARRIER_LOG = "holds the demoted node's final data (barrier"  # handoff.receive_final_data's lines
COPY_LOG = "copying the whole database"
PROMOTED_INTERVAL_MS, UNPROMOTED_INTERVAL_MS = 10000, 30000  # the meta-data's monitors
SETTLE_LIMIT = 180.0  # seconds a backup may take to hold the promoted node's latest write


@dataclass
class Sample:
    agent: str
    action: str
    size: int | None  # logical switch ports in the northbound database; None: base runs
    wall: float
    cpu: float
    rc: int | None
    expected: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return self.rc in self.expected


@dataclass
class SwitchoverRecord:
    """One switchover as the writing client saw it."""
    agent: str
    size: int | None
    kind: str  # MEASURED, SETTLE or FORCED
    outage: float  # seconds: the longest time between two acknowledged writes
    handover: float  # seconds: the last write acknowledged by the old node to the first by the new
    acked: int
    lost: int  # acknowledged writes the new promoted node lacks
    handoff: str  # ours: "barrier", "copy" or "none" (from the successor's log); OVN's: "-"


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    switchovers: list[SwitchoverRecord] = field(default_factory=list)

    def add(self, agent: str, action: str, timing: Timing, size: int | None = None,
            expected: tuple[int, ...] = (0,)) -> Timing:
        sample = Sample(agent, action, size, timing.wall, timing.cpu, timing.rc, expected)
        self.samples.append(sample)
        if not sample.ok:
            reason = [ln for ln in timing.stderr.splitlines() if "ocf-exit-reason" in ln or "ERROR" in ln]
            self.failures.append(f"{agent} {action} (size {size}): rc {timing.rc}, expected {expected}: "
                                 f"{(reason or [timing.stderr.strip()[-200:]])[-1]}")
        return timing


class Bench:
    def __init__(self, pair: Pair, recorder: Recorder, log=print, repoint_delay: float = 0.0) -> None:
        self.pair = pair
        self.rec = recorder
        self.log = log
        # seconds the old node's post-promote notification (where both agents re-point it at
        # the new promoted node, a new replication session) is held back after the client's
        # first write on the new node: does re-pointing later shorten the client's outage?
        self.repoint_delay = repoint_delay
        self.one, self.two = pair.nodes
        self.promoted = self.one

    @property
    def backup(self) -> Node:
        return self.two if self.promoted is self.one else self.one

    # -- transitions -------------------------------------------------------------------------
    def start(self, agent: str, node: Node, action: str | None = None, size: int | None = None) -> Timing:
        """Start ``node`` as a backup of the promoted node (notify variables name it)."""
        others = [n for n in self.pair.nodes if n is not node]
        promoted = [self.promoted] if self.promoted is not node else []
        env = notify_vars("pre", "start", start=[node], active=others, promoted=promoted,
                          unpromoted=[n for n in others if n not in promoted])
        timing = node.agent(agent, "start", notify=env)
        return self.rec.add(agent, action, timing, size) if action else _checked(timing, f"{agent} start")

    def stop(self, agent: str, node: Node, action: str | None = None, size: int | None = None) -> Timing:
        timing = node.agent(agent, "stop")
        return self.rec.add(agent, action, timing, size) if action else _checked(timing, f"{agent} stop")

    def switchover(self, agent: str, size: int | None = None, kind: str = MEASURED) -> None:
        """demote the promoted node, promote the backup, as ``pcs resource move`` would, while a
        client writes through the VIP, from before the switchover until the old node holds the
        new one's data again (its re-copy of the whole database is part of what the client may
        see): the agent calls' times, the client's write outage and hand-over gap, the
        acknowledged writes the new promoted node lacks, and how our successor came to hold the
        demoted node's final data (its log). The client's writes are deleted afterwards."""
        old, new = self.promoted, self.backup
        log_start = log_size(new.logfile(agent))
        prefix = f"{WRITER_PREFIX}{len(self.rec.switchovers)}-"
        with ClientWriter(self.pair.client_namespace, (VIP, NB_PORT), prefix) as client:
            client.wait_ack(time.monotonic())  # the client is writing to the old node
            total, vip_arrived = self.transition(agent, old, new, size, kind, client)
            self.promoted = new
            client.wait_ack(time.monotonic())  # ... and, the VIP moved, to the new one
            try:
                self.replicate_marker()
            except BenchError as err:  # the client's numbers stand; the run stops at the next settle
                self.rec.failures.append(f"{agent} switchover ({kind}, size {size}): {err}")
            writes = client.stop()
        with ovsdb_rpc.Client(new.socket("nb")) as db:
            missing = lost(writes, prefix, set(ovsdb_rpc.switches(db, prefix)))
            ovsdb_rpc.delete_switches(db, WRITER_PREFIX)
        record = SwitchoverRecord(
            agent, size, kind, outage(writes), handover(writes, vip_arrived), sum(w.acked for w in writes),
            len(missing), classify_handoff(read_from(new.logfile(agent), log_start)) if agent == "ours" else "-")
        self.rec.switchovers.append(record)
        for action, seconds in (("switchover (sum of agent calls)", total), ("write outage", record.outage),
                                ("hand-over gap", record.handover)):
            self.rec.add(agent, labelled(action, kind), Timing(0, seconds, 0.0, 0.0, "", ""), size)
        if missing and agent == "ours":  # our guarantee; OVN's agent's losses are only reported
            self.rec.failures.append(f"{agent} switchover ({kind}, size {size}): {len(missing)} acknowledged "
                                     f"writes lost: {missing[:10]}")

    def transition(self, agent: str, old: Node, new: Node, size: int | None, kind: str,
                   client: ClientWriter) -> tuple[float, float]:
        """The agent calls of a switchover, recorded (labelled by ``kind``), with the VIP's
        moves between them; returns the sum of their wall times and when the VIP reached the
        new node (``time.monotonic()``). With a ``repoint_delay``, the old node's post-promote
        notification waits for the ``client``'s first write on the new node, and that long."""
        lists = dict(active=[old, new], promoted=[old], unpromoted=[new], demote=[old], promote=[new])
        total = 0.0

        def call(node: Node, action: str, notify: dict[str, str], label: str | None) -> None:
            nonlocal total
            timing = node.agent(agent, action, notify=notify)
            total += timing.wall
            if label:
                self.rec.add(agent, labelled(label, kind), timing, size)
            elif timing.rc != 0:
                self.rec.failures.append(f"{agent} {action} on {node.name} (size {size}): rc {timing.rc}")

        if agent == "ours":
            self.pair.forget_upstream_repl_info()
        old.set_vip(False)
        for node in (old, new):
            call(node, "notify", notify_vars("pre", "demote", **lists), None)
        call(old, "demote", notify_vars("pre", "demote", **lists), "demote")
        for node in (old, new):
            call(node, "notify", notify_vars("post", "demote", **lists),
                 "notify post-demote (successor)" if node is new else None)
        for node in (old, new):
            call(node, "notify", notify_vars("pre", "promote", **lists), "notify pre-promote")
        call(new, "promote", notify_vars("pre", "promote", **lists), "promote")
        new.set_vip(True)
        vip_arrived = time.monotonic()
        call(new, "notify", notify_vars("post", "promote", **lists), "notify post-promote (promoted node)")
        if self.repoint_delay:
            client.wait_ack(vip_arrived)
            time.sleep(self.repoint_delay)
        call(old, "notify", notify_vars("post", "promote", **lists), "notify post-promote (other node)")
        return total, vip_arrived

    def bootstrap(self) -> None:
        """Both nodes started as backups with nobody promoted, node1 promoted (our agent)."""
        self.promoted = self.one
        nobody = notify_vars("pre", "start", start=list(self.pair.nodes))
        for node in self.pair.nodes:
            _checked(node.agent("ours", "start", notify=nobody), f"bootstrap start {node.name}")
        lists = dict(active=list(self.pair.nodes), unpromoted=list(self.pair.nodes), promote=[self.one])
        self.pair.forget_upstream_repl_info()
        _checked(self.one.agent("ours", "promote", notify=notify_vars("pre", "promote", **lists)), "bootstrap promote")
        self.one.set_vip(True)
        for node in self.pair.nodes:
            _checked(node.agent("ours", "notify", notify=notify_vars("post", "promote", **lists)), "bootstrap notify")
        self.settle()

    def settle(self, limit: float = SETTLE_LIMIT) -> None:
        """Replication works end to end (``replicate_marker``), and the servers are idle."""
        self.replicate_marker(limit)
        self.quiesce()

    def replicate_marker(self, limit: float = SETTLE_LIMIT) -> None:
        """Write a fresh marker on the promoted node and wait until the backup holds it (both
        databases)."""
        value = secrets.token_hex(8)
        for db in ("nb", "sb"):
            with ovsdb_rpc.Client(self.promoted.socket(db)) as client:
                ovsdb_rpc.set_marker(client, db, value)
        self.wait_marker(self.backup, value, time.perf_counter() + limit)

    def quiesce(self, window: float = 0.3, limit: float = 120.0) -> None:
        """Wait until every database server is idle (at most one clock tick of CPU in
        ``window``): a backup that has just received a large database compacts its file
        for seconds afterwards, and the next agent call must not pay for that."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            before = server_ticks(self.pair.nodes)
            time.sleep(window)
            after = server_ticks(self.pair.nodes)
            if all(after.get(pid, 0) - ticks <= 1 for pid, ticks in before.items()):
                return
        raise BenchError(f"the database servers were still busy after {limit:.0f}s")

    @staticmethod
    def wait_marker(node: Node, value: str, deadline: float, interval: float = 0.01) -> None:
        pending = ["nb", "sb"]
        last = ""
        while pending:
            try:
                with ovsdb_rpc.Client(node.socket(pending[0]), timeout=10) as client:
                    if ovsdb_rpc.marker(client, pending[0]) == value:
                        pending.pop(0)
                        continue
            except (OSError, ovsdb_rpc.RpcError) as err:
                last = str(err)
            if time.perf_counter() > deadline:
                raise BenchError(f"{node.name} did not replicate the marker ({pending[0]}) in time: {node.name} "
                                 f"{pending[0]} is {node.sync_state(pending[0])} {last}")
            time.sleep(interval)

    # -- the phases ----------------------------------------------------------------------------
    def monitors(self, runs: int, size: int | None = None) -> None:
        for _ in range(runs):
            for agent in AGENT_ORDER:
                timing = self.promoted.agent(agent, "monitor", interval_ms=PROMOTED_INTERVAL_MS)
                self.rec.add(agent, "monitor (promoted)", timing, size, expected=(8,))
                timing = self.backup.agent(agent, "monitor", interval_ms=UNPROMOTED_INTERVAL_MS)
                self.rec.add(agent, "monitor (unpromoted)", timing, size)

    def start_stop(self, runs: int, size: int | None = None) -> None:
        """stop the backup, probe it, start it again (it keeps its data), wait for replication."""
        for _ in range(runs):
            for agent in AGENT_ORDER:
                node = self.backup
                self.stop(agent, node, "stop", size)
                timing = node.agent(agent, "monitor", interval_ms=0)
                self.rec.add(agent, "monitor (probe, stopped)", timing, size, expected=(7,))
                self.start(agent, node, "start", size)
                self.settle()

    def switchovers(self, runs: int, size: int | None = None) -> None:
        """Each agent's turn starts with a switchover of its own, not measured: it brings the
        pair to that agent's steady state (after OVN's agent, the backup replicates from the
        VIP, a session the VIP's move cuts, and our first hand-off would always fall back to
        the copy). Then three, measured: four in all, so that every turn ends on the node it
        began on, where our agent last promoted (the start of a new backup, next, replicates
        from the address our agent published then)."""
        for _ in range(runs):
            for agent in AGENT_ORDER:
                for kind in (SETTLE, MEASURED, MEASURED, MEASURED):
                    self.switchover(agent, size, kind)
                    self.settle()

    def forced_fallback(self, size: int | None = None) -> None:
        """Our switchover when the barrier cannot arrive: from our steady state, the backup's
        servers are made to replicate from the VIP, as OVN's agent has them do; the VIP's move
        cuts that session before the demote commits the barrier, so the successor must copy."""
        self.switchover("ours", size, SETTLE)
        self.settle()
        replicate_from_vip(self.backup)
        self.settle()
        self.switchover("ours", size, FORCED)
        self.settle()

    def stateless(self, runs: int) -> None:
        for _ in range(runs):
            for agent in AGENT_ORDER:
                for action in ("meta-data", "validate-all"):
                    self.rec.add(agent, action, self.one.agent(agent, action))

    def catch_up(self, runs: int, size: int) -> None:
        """A new backup (empty database directory) starts while the promoted node holds
        ``size`` ports: time of the start action, and until the backup holds the latest write."""
        for _ in range(runs):
            for agent in AGENT_ORDER:
                node = self.backup
                self.stop(agent, node)
                wipe_databases(node)
                value = secrets.token_hex(8)
                for db in ("nb", "sb"):
                    with ovsdb_rpc.Client(self.promoted.socket(db)) as client:
                        ovsdb_rpc.set_marker(client, db, value)
                begin = time.perf_counter()
                self.start(agent, node, "start (new empty backup)", size)
                self.wait_marker(node, value, begin + SETTLE_LIMIT)
                elapsed = time.perf_counter() - begin
                self.rec.add(agent, "new backup caught up", Timing(0, elapsed, 0.0, 0.0, "", ""), size)
                with ovsdb_rpc.Client(node.socket("nb")) as client:
                    count = ovsdb_rpc.count_ports(client)
                if count != size:
                    raise BenchError(f"the new backup holds {count} ports, not {size}")
                self.quiesce()

    # -- databases of a given size ---------------------------------------------------------------
    def load(self, seed: Path | None) -> None:
        """Stop both nodes, give both the same northbound database (``seed``, or a new empty
        one), start them and promote node1 again."""
        for node in self.pair.nodes:
            self.stop("ours", node)
            wipe_databases(node)
            if seed is not None:
                shutil.copyfile(seed, node.dbdir / "ovnnb_db.db")
        for node in self.pair.nodes:
            node.set_vip(False)
        self.bootstrap()


def server_ticks(nodes: list[Node]) -> dict[int, int]:
    """CPU clock ticks (user+system) used so far by each node's database servers."""
    ticks = {}
    for node in nodes:
        for db in ("nb", "sb"):
            try:
                pid = int((node.rundir / f"ovn{db}_db.pid").read_text())
                stat = Path(f"/proc/{pid}/stat").read_text()
            except (OSError, ValueError):
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def labelled(action: str, kind: str) -> str:
    """A measured switchover's calls keep the action's name; the others say their kind."""
    return action if kind == MEASURED else f"{action} ({kind})"


def classify_handoff(log: str) -> str:
    """How our successor came to hold the demoted node's final data, from what it logged
    during the switchover: any copy makes it a "copy" (it may find the barrier afterwards)."""
    if COPY_LOG in log:
        return "copy"
    return "barrier" if BARRIER_LOG in log else "none"


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def read_from(path: Path, offset: int) -> str:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def replicate_from_vip(node: Node) -> None:
    """Point ``node``'s backup servers at the VIP, as OVN's agent does (a new session, which
    copies the whole database)."""
    for db, port in (("nb", NB_PORT), ("sb", SB_PORT)):
        for command in (["ovsdb-server/set-active-ovsdb-server", f"tcp:{VIP}:{port}"],
                        ["ovsdb-server/connect-active-ovsdb-server"]):
            subprocess.run(["ovs-appctl", "-t", node.control(db), *command], check=True, capture_output=True,
                           timeout=30)


def wipe_databases(node: Node) -> None:
    for path in node.dbdir.iterdir():
        if path.is_file():
            path.unlink()


def _checked(timing: Timing, what: str) -> Timing:
    if timing.rc != 0:
        raise BenchError(f"{what}: rc {timing.rc}: {timing.stderr.strip()[-500:]}")
    return timing
