"""The promote and demote actions: both servers active (after the election and, in a planned
switchover, the demoted node's final data, and a barrier marking the promotion), or both
backups again."""

from __future__ import annotations

from ocf_agents.net import route
from ocf_agents.ocf.codes import GenericError, Rc
from ocf_agents.ovs import ovsdb

from . import barrier, clients, handoff, held_ip, repl_info, score
from .election import elect
from .files import NodeFile
from .monitor import note_restarts
from .position import publish, read_position, record_position
from .replication import db_remote, listen_as_backup, listen_remote, point_backups, present_promoted, promoted_address
from .state import read_state, read_state_patiently, wait_until

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .barrier import Barrier
    from .config import Config


def promote(cfg: Config) -> int:
    """Both servers active, Connection rows written, ovn-northd running when managed.

    Synchronous: returns once both databases accept writes. "Already promoted" succeeds
    and is recorded again (a node reset while promoted must not loop).

    Nothing goes into the CIB on a switchover (a write there aborts Pacemaker's transition,
    and the VIP's start waits for another): the score only when it changes, which with the
    default scores it does only for a node promoted from stale; OVN_REPL_INFO after the
    transition (repl_info.py); the data position in a private attribute.
    """
    state = read_state_patiently(cfg)  # a successor may still be loading a copy (post-demote)
    if not state.all_answering:
        raise GenericError(f"Cannot promote: {state.describe()}")
    promoted_from = barrier.held(cfg) if state.all_active else activate(cfg)
    cfg.files.role.write("{}")
    if cfg.hold_master_ip:
        held_ip.add(cfg)  # before the Connection rows: the servers bind master_ip at once
    for db in cfg.dbs:
        ovsdb.ensure_global_row(db.database, cfg.timeout())
        ovsdb.set_connection(db.database, listen_remote(cfg, db), cfg.probe, db.port, cfg.timeout())
        if cfg.lb_mode:
            ovsdb.add_remote(db.database, db_remote(db), cfg.timeout())
    if cfg.hold_master_ip:
        held_ip.announce_held(cfg)  # once the servers listen: the clients come at once
    cfg.files.offer.remove()
    # Before ovn-northd: its first request makes the southbound server build it the whole
    # database, and a listener asked for meanwhile timed out (lab, 20 000 ports): the backups
    # then replicated through the VIP, and the next switchover's sessions died with it.
    handoff.listen(cfg)
    # Read before ovn-northd too: the servers answer nobody while they build its first replies.
    note_restarts(cfg, wait_until(cfg, "both databases active", lambda st: st.all_active))
    if cfg.manage_northd:
        cfg.start_northd()
    clients.start_helper(cfg)
    hint_nonlocal_bind(cfg)
    cfg.files.candidates.remove()
    # Published with the position and barrier this node was promoted with: a failed
    # predecessor that rejoins compares its own with them (lifecycle.keep_unreplicated_copy).
    promoted_with = read_position(cfg)
    record_position(cfg, promoted=True)
    repl_info.after_promote(cfg)
    cluster = cfg.ctx.cluster
    cluster.concurrently(
        lambda: score.set_score(cfg, score.PROMOTED, required=True),
        lambda: publish(cfg, promoted_from, promoted_with))  # the address the backups replicate from (replication.py)
    return Rc.SUCCESS


def activate(cfg: Config) -> Barrier | None:
    """The election (with a switchover's hand-off), both servers active, the promotion's
    barrier; returns the barrier this node held before its own: the data it is promoted with."""
    offered, held = elect(cfg)
    for db in cfg.dbs:
        cfg.active_conf(db).remove()
        ovsdb.make_active(db.database, cfg.patient_timeout())
    mark_promotion(cfg, held, offered)
    return held


def mark_promotion(cfg: Config, held: Barrier | None, offered: str | None) -> None:
    """Commit a barrier as soon as the servers are active: every backup that replicates from
    this node then holds a newer barrier than one that missed this node's data or holds
    another branch of it (a fail-over), and the election tells them apart by data, not by
    time. Not when this node holds the barrier the demoted node ``offered`` (a switchover):
    the demote offers a barrier only when it was that node's last commit, and this node was
    its read-only replica until now, so a second barrier would mark the same data and cost
    every client monitoring the global rows one more update. ``held``: the barrier this node
    held as it turned active."""
    if not barrier.names(held, offered):
        barrier.commit(cfg, "the backups' data positions are compared by time only until the next barrier")


def hint_nonlocal_bind(cfg: Config) -> None:
    """With a VIP the servers listen on master_ip, which IPaddr2 adds only after the promote.
    Unless the kernel lets them bind an address the node does not hold yet, they bind it when
    ovsdb-server next wakes up, up to about 2.5 s after the VIP is up (measured in the lab:
    docs/performance-history.md). Say so where an operator looks for the reason."""
    if cfg.lb_mode or route.address_is_local(cfg.master_ip):
        return
    key = f"net.{'ipv6' if ':' in cfg.master_ip else 'ipv4'}.ip_nonlocal_bind"
    if NodeFile("/proc/sys", key.replace(".", "/")).read() == "0":
        cfg.ctx.log.info(f"{key}=0: the databases will listen on master_ip {cfg.master_ip} only when "
                         "ovsdb-server next wakes up after the VIP starts (up to about 2.5 s); set "
                         f"{key}=1 to have them listen at once (docs/guide.md)")


def demote(cfg: Config) -> int:
    """Both servers backups with their data: of the surviving promoted node if there is
    one, else of nowhere. ovn-northd is stopped when managed. A node that was promoted
    commits a barrier before turning read-only and offers it to its successor (handoff.py)."""
    held_ip.remove(cfg)  # first: clients stop writing before the barrier, as when the VIP stops first
    state = read_state_patiently(cfg, worth_waiting=lambda s: s.busy)  # it may be sending a copy
    if not state.any_running:
        return Rc.NOT_RUNNING
    if not state.all_answering:
        raise GenericError(f"Cannot demote: {state.describe()}")
    if cfg.manage_northd:
        cfg.stop_northd()
    was_promoted = state.any_active
    # Only the promoted node offers its final data: servers that turned active on their own
    # (a backup told to stop replicating) took no client's writes, and the backups must not
    # follow them.
    offers = was_promoted and cfg.files.role.exists()
    committed = barrier.commit(cfg, "the successor will copy the whole database") \
        if offers and state.all_active else None
    listen_as_backup(cfg)
    point_backups(cfg, promoted_address(cfg, present_promoted(cfg.ctx)))
    wait_until(cfg, "both databases backups", lambda st: st.all_backups)
    if was_promoted:
        record_position(cfg, promoted=True)
    if offers:
        handoff.offer(cfg, handoff.confirm_barrier(cfg, committed))
        if not cfg.ctx.env.notify_enabled:
            # What post-promote would do (follow.py). Niced: it waits for the successor's
            # promote, and in the lab, where the nodes share the CPU, its start slowed it.
            cfg.ctx.spawn_action("follow-promoted", niceness=10)
    cfg.files.role.remove()
    kind = score.REPLICATING if was_promoted else score.backup_score(cfg, read_state(cfg))
    score.set_score(cfg, kind, required=True)
    return Rc.SUCCESS
