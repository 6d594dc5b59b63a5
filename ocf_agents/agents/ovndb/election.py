"""The election before a promotion (PAF's idea): everyone publishes its data position in the
pre-promote notification, and the node to be promoted refuses when another candidate's data
is clearly fresher, handing that node the higher score instead.

Fresher means, first, holding a later barrier (barrier.py): a replica that holds barrier N
holds every write before it, and one that holds only an older barrier missed at least the
writes between the two, whatever the times say. Only when both hold the same barrier (or a
node of an earlier version published none) do the time positions decide (position.py)."""

from __future__ import annotations

from ocf_agents.ocf.codes import GenericError

from . import barrier, handoff, position, score
from .state import read_state

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.env import Notification

    from .barrier import Barrier
    from .config import Config
    from .position import Position, Published


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
    position.publish(cfg, barrier.held(cfg))
    if me in n.promote.unames:
        leaving = set(n.stop.unames) | {me}
        candidates = sorted((set(n.active.unames) | set(n.start.unames)) - leaving)
        cfg.files.candidates.write(" ".join(candidates))


def elect(cfg: Config) -> tuple[str | None, Barrier | None]:
    """In promote: hold a demoted candidate's final data first (a planned switchover:
    handoff.py), then refuse to promote this node when another candidate's data is still
    clearly fresher (:func:`outranks`), and raise that node's score. A successor whose
    hand-off failed (the barrier did not come, the copy did not finish) holds an older
    barrier than the demoted node: refused, rather than promoted with less data. Returns the
    barrier the demoted node offered, if any, and the barrier this node holds (read with a
    patient timeout: after a copy the server is busy loading it, and a barrier not read
    counts as none, which would refuse this node).

    Without notifications (``notify=false``) the candidates are the other nodes the resource
    runs on, as published by their monitors (follow.py).
    """
    candidates = noted_candidates(cfg)
    if not candidates:
        return None, barrier.held(cfg, cfg.patient_timeout())
    published = dict(zip(candidates, cfg.ctx.cluster.concurrently(
        *[lambda node=node: position.published_by(cfg, node) for node in candidates])))
    offering = [node for node in candidates if published[node].offering]
    offered = published[max(offering, key=lambda node: published[node].position.ms)] if offering else None
    if offered is not None:
        handoff.receive_final_data(cfg, offered)
    mine, my_barrier = position.read_position(cfg), barrier.held(cfg, cfg.patient_timeout())
    by_time = not (offered and holds_final_data(offered, my_barrier))
    fresher = [node for node in candidates if not holds_final_data(published[node], my_barrier)
               and outranks(published[node], mine, my_barrier, by_time)]
    if not fresher:
        return (offered.barrier if offered else None), my_barrier
    best = max(fresher, key=lambda node: (barrier.rank(barrier.parse(published[node].held)),
                                         published[node].position.ms))
    cfg.ctx.cluster.set_promotion_score(int(cfg.ctx.params[score.REPLICATING]), node=best)
    cfg.files.outranked.write(str(mine))
    score.set_score(cfg, score.STALE, required=True)
    raise GenericError(f"Not promoting {cfg.ctx.cluster.node_name()}: node {best} has fresher data "
                       f"({why(published[best], mine, my_barrier)}); its promotion score is raised instead")


def noted_candidates(cfg: Config) -> list[str]:
    """The nodes to compare with: noted by the pre-promote notification, or without
    notifications every other node the resource runs on."""
    noted = cfg.files.candidates.take()
    if noted is not None or cfg.ctx.env.notify_enabled:
        return (noted or "").split()
    return sorted(set(cfg.ctx.cluster.locate()) - {cfg.ctx.cluster.node_name()})


def holds_final_data(theirs: Published, my_barrier: Barrier | None) -> bool:
    """This node holds the barrier a demoted node offered: that node's last commit when it
    turned read-only (handoff.confirm_barrier), so this node holds all its data. Its time
    position, recorded at its demote after the barrier, must not outrank this node's then:
    a successor whose last connected record is older (its session dropped after the barrier
    arrived, seen while a 100 000-port copy loaded) is as fresh as the demoted node. Nor
    must any other candidate's that holds the same barrier: it holds the same data, the
    demoted node's last commit, whichever monitor ran last (a successor that copied, its
    replication cut off before the move, was refused for a backup's newer time in the lab)."""
    return barrier.names(my_barrier, theirs.barrier)


def outranks(theirs: Published, mine: Position, my_barrier: Barrier | None, by_time: bool = True) -> bool:
    """A candidate's data is clearly fresher than this node's."""
    return compare(theirs, mine, my_barrier, by_time) > 0


def compare(theirs: Published, mine: Position, my_barrier: Barrier | None, by_time: bool = True) -> int:
    """Whose data is clearly fresher: 1 another node's (as it published it), -1 this node's
    (its time position and barrier), 0 neither. A later barrier wins; with the same barrier
    (or none published: an earlier version) a clearly newer time position, unless not
    ``by_time`` (this node holds a demoted node's final data: :func:`holds_final_data`). The
    election and a failed promoted node's start (lifecycle.keep_unreplicated_copy) decide
    alike."""
    ranks = _barrier_ranks(theirs, my_barrier)
    if ranks:
        return 1 if ranks[0] > ranks[1] else -1
    if not by_time:
        return 0
    return 1 if theirs.position.clearly_fresher(mine) else -1 if mine.clearly_fresher(theirs.position) else 0


def why(theirs: Published, mine: Position, my_barrier: Barrier | None) -> str:
    """What made ``theirs`` outrank this node (:func:`outranks`), for the exit reason."""
    if _barrier_ranks(theirs, my_barrier):
        return f"barrier {theirs.held} against {my_barrier or 'none'} here"
    return (f"position {theirs.position.ms} > {mine.ms}, monitor intervals "
            f"{theirs.position.interval_ms}/{mine.interval_ms} ms")


def _barrier_ranks(theirs: Published, my_barrier: Barrier | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Both barriers' ranks when they decide: both known and different."""
    if theirs.held is None:
        return None
    ranks = barrier.rank(barrier.parse(theirs.held)), barrier.rank(my_barrier)
    return ranks if ranks[0] != ranks[1] else None
