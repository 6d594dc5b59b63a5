"""Where each server replicates from and where it listens: the promoted node's own address
(published at its promotion; master_ip when it published none), or nowhere while nobody is
promoted, and never this node's own databases.

Why the promoted node's own address rather than master_ip: Pacemaker stops the VIP before it
demotes the promoted node, and a session to the VIP dies with it; a session to the node's
own address carries its last writes and the demote's barrier to the backups (handoff.py).
"""

from __future__ import annotations

from ocf_agents.ocf.codes import ArgsError
from ocf_agents.ovs import ovsdb

from .position import published_by

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.agent import Context

    from .config import Config, Db


def present_promoted(ctx: Context) -> str | None:
    """The node that is and stays promoted in this transition, from the notify variables:
    the first promoted node that is not being demoted (as OVN's agent decides). Without
    notifications (``notify=false``) Pacemaker passes none: the node other than this one that
    the CIB records as promoted."""
    if not ctx.env.notify_enabled:
        me = ctx.cluster.node_name()
        return next((node for node, role in ctx.cluster.locate().items() if role == "Promoted" and node != me), None)
    notification = ctx.env.notification()
    leaving = set(notification.demote.unames) | set(notification.stop.unames)
    for uname in notification.promoted.unames:
        if uname not in leaving:
            return uname
    return None


def promoted_address(cfg: Config, promoted: str | None) -> str | None:
    """The address to replicate from when ``promoted`` is another node: its own address, as
    it published it, or master_ip (a node that published none); None when nobody else is."""
    if promoted is None or promoted == cfg.ctx.cluster.node_name():
        return None
    return published_by(cfg, promoted).address or cfg.master_ip


def source_ip(cfg: Config, db: Db, address: str | None) -> str:
    """``address`` (see :func:`promoted_address`) when it does not reach this node; otherwise
    the nowhere address, where a backup waits with its data intact."""
    if address is not None:
        if not cfg.reaches_self(address, db):
            return address
        cfg.ctx.log.warning(f"{address} reaches this node's own {db.title} database; pointing it at "
                            f"nowhere_ip {cfg.nowhere_ip} instead of replicating from itself")
    return cfg.nowhere_ip


def source(cfg: Config, db: Db, address: str | None) -> str:
    """The remote ``db`` replicates from (``tcp:ADDR:PORT``)."""
    return ovsdb.remote(db.proto, source_ip(cfg, db, address), db.port)


def check_nowhere(cfg: Config) -> None:
    for db in cfg.dbs:
        if cfg.reaches_self(cfg.nowhere_ip, db):
            raise ArgsError(f"Parameter nowhere_ip={cfg.nowhere_ip!r} is invalid here: it reaches this node's own "
                            f"{db.title} database (listening on {cfg.listen_ip}), and a backup that "
                            "replicates from itself turns itself active")


def point_backups(cfg: Config, address: str | None) -> None:
    """Make both servers backups of ``address`` (or of nowhere), as ovn-ctl's demote does:
    the active-server file too, so that ovn-ctl and a restarted server agree. Patient: a
    server busy sending or loading a whole copy of a large database answers nothing for
    seconds, and a backup left pointed at nowhere would never replicate again."""
    for db in cfg.dbs:
        target = source(cfg, db, address)
        cfg.active_conf(db).write(target)
        ovsdb.make_backup(db.database, target, cfg.probe_to_promoted, cfg.patient_timeout())


def listen_remote(cfg: Config, db: Db) -> str:
    """The Connection row's target: master_ip, or listen_ip (0.0.0.0) in load-balancer mode."""
    return ovsdb.remote(db.proto, cfg.listen_ip, db.port, passive=True)


def db_remote(db: Db) -> str:
    """The remote that makes a server listen on its database's Connection rows."""
    return f"db:{db.database.schema},{db.database.global_table},connections"


def listen_as_backup(cfg: Config) -> None:
    """In load-balancer mode only the promoted node listens on its Connection rows."""
    if cfg.lb_mode:
        for db in cfg.dbs:
            ovsdb.remove_remote(db.database, db_remote(db), cfg.timeout())
