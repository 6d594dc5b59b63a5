"""The switchover hand-off: a demoted node's final data, copied before its successor takes
writes.

Writes the demoted node acknowledged last may not have reached the others: the VIP left
that node before it was demoted, which cuts the replication sessions off mid-stream, and
turning read-only closes them. So the demoted node offers its frozen, read-only databases on
its own address (:func:`offer`), and the successor and the other backups replicate from
there until nothing is left unread (:func:`catch_up`) before the promotion turns anyone
active.
"""

from __future__ import annotations

import time

from ocf_agents.net import route
from ocf_agents.ocf.codes import OCFError
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.unixctl import UnixctlError

from . import position
from .state import State, read_state

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from typing import Callable

    from ocf_agents.ocf.env import Notification

    from .config import Config

CONNECT_WAIT = 3.0  # seconds a node may take to reach the demoted node


def offer(cfg: Config) -> None:
    """Let a successor copy this demoted node's final data from this node's own address.

    Offered whenever a promoted node is demoted: Pacemaker usually promotes the successor in
    a later transition (the demote's score change aborts the first one), so the demote's
    notify variables do not say whether a promotion follows.

    With a VIP, the databases listen on master_ip only, which has left this node by now: add
    a listener on the address this node reaches master_ip's network from, until the successor
    is promoted (:func:`withdraw`). The databases are read-only backups: nothing can be
    written through it. In load-balancer mode they already listen on listen_ip. The address
    is published with this node's data position, now (the backups copy in the post-demote
    notification) and again in the pre-promote notification.
    """
    address = _address(cfg)
    if address is None:
        cfg.ctx.log.warning(f"no route towards master_ip {cfg.master_ip}: the successor cannot copy this "
                            "node's final data")
        return
    if not _change_listeners(cfg, address, ovsdb.add_remote):
        return
    cfg.files.handoff.write(address)
    try:
        position.publish(cfg)  # for the backups' post-demote copy
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: the backups will look for this node's final data at the promotion only")


def withdraw(cfg: Config) -> None:
    """Remove the hand-off listener, if any (the successor is promoted, or this node is)."""
    address = cfg.files.handoff.read()
    if address and _change_listeners(cfg, address, ovsdb.remove_remote):
        cfg.files.handoff.remove()


def _address(cfg: Config) -> str | None:
    if cfg.lb_mode and not cfg.listening_everywhere:
        return cfg.listen_ip
    return route.source_address(cfg.master_ip)


def _change_listeners(cfg: Config, address: str, change: Callable[[ovsdb.Database, str, float], None]) -> bool:
    """Add (``ovsdb.add_remote``) or remove (``ovsdb.remove_remote``) the listeners on
    ``address``: none where the databases listen already. False, logged, if a server fails."""
    if cfg.lb_mode or address == cfg.master_ip:
        return True
    try:
        for db in cfg.dbs:
            change(db.database, ovsdb.remote(db.proto, address, db.port, passive=True), cfg.timeout())
    except (UnixctlError, ovsdb.OvsdbError) as err:
        cfg.ctx.log.warning(f"the hand-off listener on {address}: {err}")
        return False
    return True


def catch_up(cfg: Config, offered: str | None) -> None:
    """Replicate from the demoted node's ``offered`` address until the copy is complete and
    nothing is left unread. The backups start it in the post-demote notification; promote
    waits for it (or makes it) before turning the servers active. Bounded: unreachable
    within a few seconds, or not copied within half the remaining budget, go on with the
    data received so far, and say so.
    """
    if offered is None:
        return
    if any(cfg.reaches_self(offered, db) for db in cfg.dbs):
        cfg.ctx.log.warning(f"the demoted node's address {offered} reaches this node's own databases: not copying")
        return
    targets = {db.key: ovsdb.remote(db.proto, offered, db.port) for db in cfg.dbs}

    def connected(state: State) -> bool:
        return state.all_connected and all(s.status.sync_from == targets[s.db.key] for s in state.servers)

    if not connected(read_state(cfg)):  # else copying from there already (post-demote)
        for db in cfg.dbs:
            ovsdb.make_backup(db.database, targets[db.key], cfg.probe_to_promoted, cfg.timeout())

    def copied() -> bool:
        state = read_state(cfg)
        return connected(state) and all(s.status.replicating and s.connection.rx_queue == 0 for s in state.servers)

    budget = cfg.ctx.budget
    try:
        budget.wait_for(f"replication from the demoted node at {offered}", lambda: connected(read_state(cfg)),
                        0.05, limit=CONNECT_WAIT)
        budget.wait_for(f"the demoted node's final data from {offered}", copied, 0.05,
                        limit=budget.remaining() / 2)
        time.sleep(0.05)  # the server applies what it read in the same loop iteration
        cfg.ctx.log.info(f"copied the demoted node's final data from {offered}")
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: going on with the data received so far")


def copy_from_demoted(cfg: Config, n: Notification) -> None:
    """A backup copies the demoted node's final data at once, while that node still runs:
    when the promoted node is put in standby or stopped, Pacemaker stops it before it
    promotes another (seen in the lab), and the promote would find nobody to copy from."""
    me = cfg.ctx.cluster.node_name()
    if me in n.demote.unames or not read_state(cfg).all_backups:
        return
    for node in n.demote.unames:
        offered = position.published_by(cfg, node).handoff
        if offered:
            catch_up(cfg, offered)
            return
