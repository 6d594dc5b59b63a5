"""Promotion scores: which of the three configured scores this node deserves, and writing it.

The kinds are the names of the parameters that hold their values.
"""

from __future__ import annotations

from ocf_agents.ocf.cluster import ClusterUnreachable

from .position import now_ms, read_position

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config
    from .state import State

PROMOTED = "promoted_score"  # the promoted node keeps it
REPLICATING = "replicating_score"  # a backup whose data is current
STALE = "stale_score"  # a backup whose data may be behind


# The actions that take the score cache's word for the CIB's: a recurring monitor (every few
# seconds on every node), and a switchover's demote and promote, on the path Pacemaker waits
# for. Start and probes check the CIB: the cache may not have survived what came before.
TRUSTING_THE_CACHE = frozenset({"monitor", "promote", "demote"})


def set_score(cfg: Config, kind: str, required: bool) -> None:
    """Set this node's promotion score, unless the cache says it has it already.

    ``required``: start, promote and demote fail when the cluster cannot record the score
    (Pacemaker would otherwise act on a stale one); a monitor only logs it, because the
    state it reports is true whatever the CIB does.
    """
    score = int(cfg.ctx.params[kind])
    cached = cfg.files.score.read()
    if cfg.ctx.action in TRUSTING_THE_CACHE and not cfg.ctx.is_probe and cached == str(score):
        return
    try:
        cfg.ctx.cluster.set_promotion_score(score, known=int(cached) if cached and cached.isdigit() else None)
    except ClusterUnreachable as err:
        if required:
            raise
        cfg.ctx.log.warning(f"{err.reason}; the promotion score stays as it was")
        return
    cfg.files.score.write(str(score))


def backup_score(cfg: Config, state: State) -> str:
    """replicating for a backup connected to the promoted node (its data is current), for
    one cut off from it within the grace period (when the promoted node fails, every backup
    is cut off: the fresh ones must still outrank one cut off long before), and for the last
    promoted node waiting on nowhere_ip while nobody is promoted; stale otherwise."""
    if state.all_connected:
        return REPLICATING
    position = read_position(cfg)
    if cfg.files.outranked.read() == str(position):
        return STALE  # the election refused this data: no restart may raise it again
    if all(s.source_ip == cfg.nowhere_ip for s in state.servers):
        return REPLICATING if position.promoted else STALE
    return REPLICATING if position.within_grace(now_ms()) else STALE
