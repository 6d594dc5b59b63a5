"""The switchover hand-off: the successor holds everything the demoted node acknowledged
before it takes writes, without re-copying the database when it can show it already does.

Three parts:

- While promoted, the databases also listen on this node's own address (:func:`listen`),
  and the backups replicate from there rather than from master_ip (replication.py): when
  Pacemaker moves the VIP away before the demote, their sessions go on.
- The demote commits a *barrier* after client writes have stopped (the VIP is gone, ovn-northd
  stopped) and before the servers turn read-only: ``external_ids:ovndb-servers-barrier`` in
  NB_Global and SB_Global, a key OVN does not read (barrier.py). A server turned
  backup keeps serving its replication sessions, and OVSDB replicates in commit order: a
  replica that holds the barrier holds every write before it. The demoted node publishes the
  barrier with its address (position.py).
- The backups (post-demote) and the successor (promote) wait a moment for the barrier in
  their own copy (:func:`receive_final_data`), a time independent of the database's size.
  Only when it does not arrive (a session cut off, a node of an older version) do they copy
  the whole database from the demoted node's address (:func:`catch_up`), bounded, and log it.
"""

from __future__ import annotations

import time

from ocf_agents.net import route
from ocf_agents.ocf.codes import OCFError
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.unixctl import UnixctlError

from . import barrier, position
from .state import State, read_state

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from typing import Callable

    from ocf_agents.ocf.env import Notification

    from .barrier import Barrier
    from .config import Config
    from .position import Published

CONNECT_WAIT = 3.0  # seconds a node may take to reach the demoted node
BARRIER_WAIT = 2.0  # seconds a replica may take to receive the barrier over a live session


def listen(cfg: Config) -> None:
    """Listen on this node's own address for the backups' replication (promote), and keep
    listening there after a demote for the successor (until :func:`withdraw`).

    With a VIP the databases listen on master_ip, which leaves this node before its demote;
    the address added here is the one this node reaches master_ip's network from. Clients
    could write through it while this node is promoted, as through the VIP; once demoted, the
    servers are read-only backups. In load-balancer mode they listen on listen_ip already.
    """
    address = _address(cfg)
    current = cfg.files.handoff.read()
    if address == current:
        return
    withdraw(cfg)
    if address is None:
        cfg.ctx.log.warning(f"no route towards master_ip {cfg.master_ip}: the backups will replicate from "
                            "master_ip, and a switchover will copy the whole database")
        return
    if _change_listeners(cfg, address, ovsdb.add_remote):
        cfg.files.handoff.write(address)


def offer(cfg: Config, offered: Barrier | None) -> None:
    """Publish this demoted node's address and barrier, for its successor and the backups.

    Offered whenever a promoted node is demoted: Pacemaker usually promotes the successor in
    a later transition (the demote's score change aborts the first one), so the demote's
    notify variables do not say whether a promotion follows. Published now (the backups look
    in the post-demote notification) and again in the pre-promote notification.
    """
    listen(cfg)
    cfg.files.offer.write(str(offered) if offered else position.NO_BARRIER)
    try:
        position.publish(cfg, barrier.held(cfg))
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: the backups will look for this node's final data at the promotion only")


def withdraw(cfg: Config) -> None:
    """Remove the listener on this node's own address, if any (another node is promoted)."""
    address = cfg.files.handoff.read()
    if address and _change_listeners(cfg, address, ovsdb.remove_remote):
        cfg.files.handoff.remove()
    cfg.files.offer.remove()


def confirm_barrier(cfg: Config, committed: Barrier | None) -> Barrier | None:
    """``committed`` if it is the last commit of both databases now that they are backups;
    None, logged, if anything was committed after it (a client on the local socket, or
    through a load balancer, wrote between the barrier and the role change): holding the
    barrier would not prove holding that write, so the successor copies instead."""
    if committed is None:
        return None
    title = barrier.committed_after(cfg, committed)
    if title is not None:
        cfg.ctx.log.warning(f"the {title} database committed a write after the barrier {committed}: "
                            "the successor will copy the whole database")
        return None
    return committed


def receive_final_data(cfg: Config, offered: Published) -> None:
    """Hold the demoted node's final data: its barrier in this node's copy, or else a copy."""
    if offered.barrier:
        try:
            cfg.ctx.budget.wait_for(f"the demoted node's barrier {offered.barrier}",
                                    lambda: barrier.holds(cfg, offered.barrier), 0.02,
                                    limit=min(BARRIER_WAIT, cfg.ctx.budget.remaining() / 4))
            cfg.ctx.log.info(f"holds the demoted node's final data (barrier {offered.barrier}): no copy needed")
            return
        except OCFError as err:
            cfg.ctx.log.warning(f"{err.reason}: copying the whole database from the demoted node instead")
    else:
        cfg.ctx.log.warning("the demoted node published no barrier: copying the whole database from it")
    catch_up(cfg, offered.address)


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
    """The fallback: replicate from the demoted node's ``offered`` address until the copy is
    complete and nothing is left unread (ovsdb-server's replication has no incremental
    catch-up: a new session copies everything). Bounded: unreachable within a few seconds, or
    not copied within half the remaining budget, go on with the data received so far, and
    say so.
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
            ovsdb.make_backup(db.database, targets[db.key], cfg.probe_to_promoted, cfg.patient_timeout())

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
        offered = position.published_by(cfg, node)
        if offered.offering:
            receive_final_data(cfg, offered)
            return
