"""Following the promoted node without notifications (a clone with ``notify=false``).

With notifications, the post-promote notification points every other node's backups at the
new promoted node, and the pre-promote one publishes every node's data position for the
election (notify.py). Notifications cost three rounds of actions in a switchover, which the
VIP waits for (docs/guide.md, "A switchover in one transition"). Without them the same is
done this way:

- The demoted node starts the ``follow-promoted`` helper (:func:`follow_after_demote`): it
  waits, within the demote's timeout, until the CIB records another node as promoted, then
  withdraws its hand-off offer and points both servers at that node. It keeps listening on
  its own address: a backup that replicated from it through the switchover goes on doing so
  and receives the new promoted node's writes through it (a chain of backups: a backup
  serves replication as the active server does, and forwards what it receives).
- A backup's monitor that finds it pointed at nowhere or cut off from its source points it
  at the promoted node, if there is one (after a crash, a rejoin, a helper that gave up).
- A connected backup's monitor publishes its data position for the election.
"""

from __future__ import annotations

from ocf_agents.ocf.codes import OCFError, Rc

from . import barrier
from .position import publish, published_by
from .replication import point_backups, present_promoted, source
from .state import read_state

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config
    from .state import State

# Seconds between two looks at the CIB while the successor's promote runs: each look runs two
# processes, and more often they only slowed the promote in a lab whose nodes share a CPU.
POLL = 0.25


def keep_following(cfg: Config, state: State) -> None:
    """A backup's monitor: publish this node's position while its data is current, else
    follow the promoted node."""
    if state.all_connected:
        publish(cfg, barrier.held(cfg))
    elif not any(s.busy for s in state.servers):
        leader = promoted_source(cfg)
        if leader is not None:
            follow(cfg, state, *leader)


def promoted_source(cfg: Config) -> tuple[str, str] | None:
    """The promoted node and the address it published for the backups, None while there
    is none. Never master_ip (which a node of an earlier version would leave to the
    backups): Pacemaker moves the VIP away before a demote, and a session to it dies before
    the demoted node's final data reaches it. The CIB shows a promotion as soon as it is
    pending, and the node publishes its address at the promote's end: until then, none."""
    promoted = present_promoted(cfg.ctx)
    address = published_by(cfg, promoted).address if promoted is not None else None
    return (promoted, address) if address is not None else None


def follow(cfg: Config, state: State, promoted: str, address: str) -> bool:
    """Point both servers at the promoted node's ``address``, unless they point there
    already (a session being set up must not be restarted); True when re-pointed."""
    if all(s.status and s.status.sync_from == source(cfg, s.db, address) for s in state.servers):
        return False
    point_backups(cfg, address)
    cfg.ctx.log.info(f"replicating from promoted node {promoted} ({address}), as no notification "
                     "told this node (notify=false)")
    return True


def follow_after_demote(cfg: Config) -> int:
    """The ``follow-promoted`` action, started detached by a demote without notifications:
    once another node is promoted, withdraw the hand-off offer and follow that node. Gives up
    (logged) when nobody is promoted within its budget (the demote's timeout), or when this
    node was promoted again or stopped meanwhile."""
    try:
        leader = cfg.ctx.budget.wait_for("another node to be promoted", lambda: promoted_source(cfg), POLL)
    except OCFError as err:
        cfg.ctx.log.info(f"{err.reason}: this node's monitor will follow the next promoted node")
        return Rc.SUCCESS
    state = read_state(cfg)
    if cfg.files.role.exists() or not state.all_backups:
        return Rc.SUCCESS
    cfg.files.offer.remove()
    publish(cfg, barrier.held(cfg))
    follow(cfg, state, *leader)
    return Rc.SUCCESS
