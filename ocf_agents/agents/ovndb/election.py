"""The election before a promotion (PAF's idea): everyone publishes its data position in the
pre-promote notification, and the node to be promoted refuses when another candidate's data
is clearly fresher, handing that node the higher score instead."""

from __future__ import annotations

from ocf_agents.ocf.codes import GenericError

from . import position, score
from .state import read_state

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.env import Notification

    from .config import Config
    from .position import Published


def refresh_position(cfg: Config) -> None:
    """A backup connected to the promoted node right now has all of its data."""
    state = read_state(cfg)
    if state.all_backups and state.all_connected:
        position.record_position(cfg, promoted=False)


def prepare(cfg: Config, n: Notification) -> None:
    """pre-promote: publish this node's data position; the node to be promoted notes the
    candidates it must compare with in promote, once every position is published.

    A connection counts only in a switchover, to the demoted (read-only) node: after a
    failure it may be a dead peer's not yet noticed, and the last monitor's record stands.
    """
    me = cfg.ctx.cluster.node_name()
    if n.demote.unames:
        refresh_position(cfg)
    position.publish(cfg)
    if me in n.promote.unames:
        leaving = set(n.stop.unames) | {me}
        candidates = sorted((set(n.active.unames) | set(n.start.unames)) - leaving)
        cfg.files.candidates.write(" ".join(candidates))


def elect(cfg: Config) -> Published | None:
    """In promote: refuse to promote this node when another candidate's data is clearly
    fresher, and raise that node's score. Returns what a demoted candidate published (a
    planned switchover: its address and barrier), if any: the freshest such candidate's.

    Without notifications nobody noted candidates, there is nothing to compare and the
    promotion goes ahead.
    """
    candidates = (cfg.files.candidates.take() or "").split()
    if not candidates:
        return None
    mine = position.read_position(cfg)
    published = dict(zip(candidates, cfg.ctx.cluster.concurrently(
        *[lambda node=node: position.published_by(cfg, node) for node in candidates])))
    best = max(published, key=lambda node: published[node].position.ms)
    theirs = published[best].position
    if theirs.clearly_fresher(mine):
        cfg.ctx.cluster.set_promotion_score(int(cfg.ctx.params[score.REPLICATING]), node=best)
        cfg.files.outranked.write(str(mine))
        score.set_score(cfg, score.STALE, required=True)
        raise GenericError(f"Not promoting {cfg.ctx.cluster.node_name()}: node {best} has fresher data "
                           f"(position {theirs.ms} > {mine.ms}, monitor intervals "
                           f"{theirs.interval_ms}/{mine.interval_ms} ms); its promotion score is raised instead")
    offering = [node for node in candidates if published[node].offering]
    freshest = max(offering, key=lambda node: published[node].position.ms, default=None)
    return published[freshest] if freshest else None
