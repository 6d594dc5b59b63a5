"""Watchers that run beside a step, sampling the lab every 0.1 s in a thread of their own.

A one-shot look after the step cannot see a moment: two nodes writable for half a second in
the middle of a fail-over leave no trace once it is over. A new watcher subclasses
:class:`Sampler`, keeps what it saw in attributes, and the step turns them into facts.
"""

from __future__ import annotations

import threading
import time
from typing import Self

from ..lab import Lab
from ..layout import OVNDB_VIP
from ..nodes import init_pid
from .probes import accepting_writes, holds_address, local_addresses, northd_pids, server_role
from .timeline import TOGETHER, Track


class Sampler:
    """Calls ``sample`` every ``interval`` seconds while its ``with`` block runs."""

    interval = 0.1

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=type(self).__name__,
                                        daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


class ActiveSampler(Sampler):
    """Which nodes accept writes.

    *Active*: the node's northbound server is ``active``. *Writable*: active and holding the
    VIP, so that a client can reach it. With fencing, the majority powers a cut-off node off
    before it promotes another one, so no two servers should ever be active at once; a node
    cut off by ``isolate`` has every link down, so no client can write to it: it counts as
    writable only while it is reachable. Active servers and VIP holders are counted
    regardless, and the step checks them.
    """

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.max_active = self.max_writable = self.max_vip_holders = 0
        self.overlap = ""
        self.active_overlap_s = 0.0
        self._last = time.monotonic()

    def sample(self) -> None:
        active = [n for n in self.lab.running() if accepting_writes(self.lab, n)]
        with_vip = [n for n in active if holds_address(n, OVNDB_VIP)]
        self.max_vip_holders = max(self.max_vip_holders, len(with_vip))
        writable = [n.name for n in with_vip if not self.lab.is_cut_off(n)]
        now = time.monotonic()
        if len(active) > 1:
            self.active_overlap_s += now - self._last
        self._last = now
        self.max_active = max(self.max_active, len(active))
        if len(writable) > self.max_writable:
            self.max_writable, self.overlap = len(writable), "+".join(writable)


class NorthdSampler(Sampler):
    """Where ovn-northd runs, against where it must: on exactly one node, the promoted one
    (the node holding the VIP, which follows the promoted instance).

    A sample with none is the hand-over (the old one stopped, the new one not started yet);
    two at once is what must never happen. As for the servers (ActiveSampler), a node cut
    off by ``isolate`` is counted apart: its ovn-northd writes only to its own cut-off
    databases, and only fencing can stop it before the majority starts another one.
    """

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.samples = self.on_promoted = self.none = 0
        self.max_running = self.max_reachable = 0
        self.overlap = ""
        self.track = Track()  # the nodes running it (time.monotonic()), for the picture

    def sample(self) -> None:
        running = sorted(northd_pids(self.lab))
        self.track.note(time.monotonic(), TOGETHER.join(running))
        reachable = [name for name in running if not self.lab.is_cut_off(self.lab.node(name))]
        self.samples += 1
        self.none += not running
        self.on_promoted += len(running) == 1 and holds_address(self.lab.node(running[0]),
                                                                OVNDB_VIP)
        self.max_running = max(self.max_running, len(running))
        if len(reachable) > self.max_reachable:
            self.max_reachable, self.overlap = len(reachable), "+".join(reachable)

    def describe(self) -> str:
        """One summary cell: samples with exactly one, on the promoted node / all samples,
        and the most seen at once."""
        return f"{self.on_promoted}/{self.samples} max {self.max_running}"


class RoleSampler(Sampler):
    """What the step's picture shows of each node: its northbound server's role (timeline.py
    says which) and whether it holds the VIP, as changes (time.monotonic()). Every step runs
    it, so a sample starts no process: the servers' control sockets and the nodes' addresses
    are read through /proc (probes.server_role, probes.local_addresses)."""

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab
        self.roles = {node.name: Track() for node in lab.nodes}
        self.vip = Track()

    def sample(self) -> None:
        now, holders = time.monotonic(), []
        for node in self.lab.nodes:
            init = init_pid(node)
            if init is None:
                self.roles[node.name].note(now, "down")
                continue
            try:
                cut_off = self.lab.is_cut_off(node)
            except OSError:  # its link is being made again (a fenced node booting)
                cut_off = False
            self.roles[node.name].note(now, server_role(init) + (", cut off" if cut_off else ""))
            if OVNDB_VIP in local_addresses(init):
                holders.append(node.name)
        self.vip.note(now, TOGETHER.join(holders))
