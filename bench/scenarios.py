"""What the benchmark measures: Pacemaker's actions on the pair, one agent then the other.

Every measured step runs once with each agent in turn (ours, OVN's, ours, OVN's...) on the
same two nodes, so that a drift of the machine's load hits both alike. The transitions are
driven the way Pacemaker drives a promotable clone with ``notify=true``: the notify variables
of the whole transition are given to every action and notification in it, the VIP leaves the
old promoted node before its demote and reaches the new one after its promote.
"""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import ovsdb_rpc
from .pair import BenchError, Node, Pair, Timing, notify_vars

AGENT_ORDER = ("ours", "theirs")
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
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

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
    def __init__(self, pair: Pair, recorder: Recorder, log=print) -> None:
        self.pair = pair
        self.rec = recorder
        self.log = log
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

    def switchover(self, agent: str, size: int | None = None) -> None:
        """demote the promoted node, promote the backup, as ``pcs resource move`` would."""
        old, new = self.promoted, self.backup
        lists = dict(active=[old, new], promoted=[old], unpromoted=[new], demote=[old], promote=[new])
        total = 0.0
        if agent == "ours":
            self.pair.forget_upstream_repl_info()
        old.set_vip(False)
        for kind, op, label in (("pre", "demote", None), (None, "demote", "demote"), ("post", "demote", None),
                                ("pre", "promote", "notify pre-promote"), (None, "promote", "promote")):
            if kind is None:
                node = old if op == "demote" else new
                timing = node.agent(agent, op, notify=notify_vars("pre", op, **lists))
                self.rec.add(agent, label, timing, size)
                total += timing.wall
                continue
            for node in (old, new):
                timing = node.agent(agent, "notify", notify=notify_vars(kind, op, **lists))
                total += timing.wall
                if label:
                    self.rec.add(agent, label, timing, size)
        new.set_vip(True)
        for node in (old, new):
            timing = node.agent(agent, "notify", notify=notify_vars("post", "promote", **lists))
            total += timing.wall
            role = "promoted node" if node is new else "other node"
            self.rec.add(agent, f"notify post-promote ({role})", timing, size)
        self.rec.add(agent, "switchover (sum of agent calls)", Timing(0, total, 0.0, 0.0, "", ""), size)
        self.promoted = new

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

    def settle(self, limit: float = SETTLE_LIMIT) -> float:
        """Write a fresh marker on the promoted node and wait until the backup holds it (both
        databases): replication works end to end. Returns the seconds it took."""
        value = secrets.token_hex(8)
        start = time.perf_counter()
        for db in ("nb", "sb"):
            with ovsdb_rpc.Client(self.promoted.socket(db)) as client:
                ovsdb_rpc.set_marker(client, db, value)
        self.wait_marker(self.backup, value, start + limit)
        elapsed = time.perf_counter() - start
        self.quiesce()
        return elapsed

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
        for _ in range(runs):
            for agent in AGENT_ORDER:
                for _ in range(2):  # there and back: the same node is promoted after each agent
                    self.switchover(agent, size)
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


def wipe_databases(node: Node) -> None:
    for path in node.dbdir.iterdir():
        if path.is_file():
            path.unlink()


def _checked(timing: Timing, what: str) -> Timing:
    if timing.rc != 0:
        raise BenchError(f"{what}: rc {timing.rc}: {timing.stderr.strip()[-500:]}")
    return timing
