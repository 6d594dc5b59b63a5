"""What a step's picture shows, recorded as plain data while the step runs (issue 28).

The samplers note each change of what they watch (a node's role, the VIP's holder, where
ovn-northd runs) as a :class:`Track`; when the step ends, the runner adds both clients'
acknowledged writes, the fence device's actions and the step's moments (its fault). All
times are on the drill's clock, seconds since the drill began, as in the timeline it prints
(``[ 12.34s]``). :mod:`.picture` draws them after the drill: recording costs a few list
appends, drawing nothing until the steps are over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NONE = ""  # a Track's value while nothing holds it (no VIP holder, no ovn-northd)
TOGETHER = "+"  # joins the nodes that held something at the same time


@dataclass
class Track:
    """A value over time: each change with its time; a value holds until the next change."""

    changes: list[tuple[float, str]] = field(default_factory=list)

    def note(self, at: float, value: str) -> None:
        if not self.changes or self.changes[-1][1] != value:
            self.changes.append((at, value))

    def spans(self, end: float) -> list[tuple[float, float, str]]:
        """(from, to, value) of each change, the last one until ``end``."""
        ends = [at for at, _ in self.changes[1:]] + [end]
        return [(at, until, value) for (at, value), until in zip(self.changes, ends)]

    def shifted(self, by: float) -> Track:
        return Track([(at + by, value) for at, value in self.changes])


@dataclass(frozen=True)
class Fence:
    """A power action of the lab's fence device during the step (fence_device.FenceEvent)."""

    requested: float
    done: float
    action: str  # off, on, reboot
    target: str
    requester: str
    ok: bool


@dataclass
class Timeline:
    """One step's events, from its beginning to the end of its body."""

    begin: float
    end: float
    # Each node's northbound server, as it says itself (ovsdb-server/sync-status): "active",
    # "backup", "stopped" (no answer), or "down" (the node is not running: crashed, fenced);
    # ", cut off" added while its links are down (the partition step).
    roles: dict[str, Track] = field(default_factory=dict)
    vip: Track = field(default_factory=Track)  # the nodes holding the VIP, TOGETHER-joined
    northd: Track | None = None  # the nodes running ovn-northd (None: not watched, the floor)
    writes: dict[str, list[float]] = field(default_factory=dict)  # client -> its acks' ends
    fences: list[Fence] = field(default_factory=list)
    moments: dict[str, float] = field(default_factory=dict)  # the step's ("crash", "move"...)
