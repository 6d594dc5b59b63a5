"""How fresh a node's data is, recorded on the node and published for the election.

The published form is the one place the election's inputs are written and read (PAF's
idea): ``"<ms> promoted|backup <interval_ms> [<address> [<offer>]] held=<barrier>"`` in a
private node attribute. The address is where this node's databases listen for the backups'
replication (promoted) and for its successor's hand-off (just demoted). The offer is there only
on a node demoted from promoted: the barrier it committed then, or ``-`` when it has none
(handoff.py). ``held=`` names the last barrier this node's databases hold (its data position,
barrier.py), ``-`` for none; it is a keyword, not a position, because a backup has neither
address nor offer. Forms without it (3 to 5 words, from earlier versions) still parse: that
node's barrier is unknown, and the election compares its time position only.
"""

from __future__ import annotations

import time

from ocf_agents.ocf.record import Record

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.agent import Context

    from .barrier import Barrier
    from .config import Config

# Cluster nodes' clocks agree to well within this (chrony/NTP): positions compare with it.
CLOCK_SKEW_MS = 1000
# A backup cut off from the promoted node keeps the replicating score for two of its monitor
# intervals and this much since its last connected position (docs/ovndb-monitor-states.md).
GRACE_SLACK_MS = 4000


def now_ms() -> int:
    return int(time.time() * 1000)


class Position(Record):
    """How fresh a node's data is: when it was last known complete (ms since the epoch, 0:
    never), whether the node was promoted then, and the interval of the monitor that records
    it (ms): the data may have stayed complete that long after ``ms`` without a record (0
    once nothing records it any more: stopped). Kept in the position file as
    ``"<ms> promoted|backup <interval_ms>"``."""

    ms: int
    promoted: bool
    interval_ms: int

    def __str__(self) -> str:
        return f"{self.ms} {'promoted' if self.promoted else 'backup'} {self.interval_ms}"

    def clearly_fresher(self, other: Position) -> bool:
        """Newer than ``other`` by more than either position's precision (the larger
        recorded monitor interval, plus clock skew); closer positions count as equal."""
        return self.ms - other.ms > max(self.interval_ms, other.interval_ms) + CLOCK_SKEW_MS

    def within_grace(self, now: int) -> bool:
        """Could this backup's data still be as fresh as any other backup's? After the
        promoted node fails, each backup's next monitor (within one interval) finds it
        disconnected, at most two intervals after its last connected position."""
        return now - self.ms <= 2 * self.interval_ms + GRACE_SLACK_MS


NO_BARRIER = "-"  # an offer without a barrier (the successor copies), or no barrier held
HELD = "held="  # the keyword of the barrier a node holds, in the published form


class Published(Record):
    """A node's published position, the address its databases listen on for the others'
    replication, if any, its hand-off offer, if it was just demoted from promoted, and the
    barrier its databases hold."""

    position: Position
    address: str | None
    offer: str | None = None  # the barrier, or NO_BARRIER
    held: str | None = None  # the barrier, NO_BARRIER, or None: not published (an earlier version)

    def __str__(self) -> str:
        held = self.held and HELD + self.held
        return " ".join(filter(None, (str(self.position), self.address, self.address and self.offer, held)))

    @property
    def offering(self) -> bool:
        """This node was demoted from promoted and offers its final data on its address."""
        return bool(self.address and self.offer)

    @property
    def barrier(self) -> str | None:
        return self.offer if self.offer != NO_BARRIER else None


def parse_position(text: str | None) -> Position:
    """A position as written by :class:`Position`; never recorded or unreadable: 0."""
    words = (text or "").split()
    try:
        return Position(int(words[0]), words[1:2] == ["promoted"], int(words[2]) if words[2:] else 0)
    except (IndexError, ValueError):
        return Position(0, False, 0)


def parse_published(text: str | None) -> Published:
    """A published position; the address is its fourth word, the offer its fifth, the held
    barrier the word after ``held=``, wherever it stands."""
    words = (text or "").split()
    held = [word.removeprefix(HELD) for word in words[3:] if word.startswith(HELD)]
    rest = [word for word in words[3:] if not word.startswith(HELD)]
    return Published(parse_position(text), *(rest[:2] + [None, None])[:2], held[-1] if held else None)


def read_position(cfg: Config) -> Position:
    return parse_position(cfg.files.position.read())


def record_position(cfg: Config, promoted: bool) -> None:
    """This node's data is complete as of now: it is promoted, or a connected backup. The
    interval is the recurring monitor's (others keep the last one); 0 on stop."""
    if cfg.ctx.action == "stop":
        interval = 0
    else:
        interval = cfg.ctx.env.interval_ms or read_position(cfg).interval_ms
    cfg.files.position.write(str(Position(now_ms(), promoted, interval)))


def position_attribute(ctx: Context) -> str:
    """A private attribute (attrd only): a transient attribute in the CIB would abort the
    transition at each pre-promote notification, which would write it again, forever. Not
    the old ``-data-position`` name: attrd keeps an existing attribute public."""
    return attribute_of(ctx.env.resource_name)


def attribute_of(resource: str) -> str:
    """The name of ``resource``'s published positions (``ocf-agents status`` reads them too)."""
    return f"{resource}-data-position-private"


def publish(cfg: Config, held: Barrier | None, position: Position | None = None) -> None:
    """This node's data position (``position``, or the recorded one, and the barrier it
    ``held``: barrier.held), for the others' election and replication, with the address its
    databases listen on for them and its hand-off offer when it was just demoted."""
    published = Published(position or read_position(cfg), cfg.files.handoff.read(), cfg.files.offer.read(),
                          str(held) if held else NO_BARRIER)
    cfg.ctx.cluster.set_private_attribute(position_attribute(cfg.ctx), str(published))


def published_by(cfg: Config, node: str) -> Published:
    return parse_published(cfg.ctx.cluster.private_attribute(position_attribute(cfg.ctx), node=node))
