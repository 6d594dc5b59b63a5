"""Where each server replicates from and where it listens: the promoted node's address,
or nowhere while nobody is promoted, and never this node's own databases."""

from __future__ import annotations

from ocf_agents.ocf.codes import ArgsError
from ocf_agents.ovs import ovsdb

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.agent import Context

    from .config import Config, Db


def present_promoted(ctx: Context) -> str | None:
    """The node that is and stays promoted in this transition, from the notify variables:
    the first promoted node that is not being demoted (as OVN's agent decides)."""
    notification = ctx.env.notification()
    leaving = set(notification.demote.unames) | set(notification.stop.unames)
    for uname in notification.promoted.unames:
        if uname not in leaving:
            return uname
    return None


def source_ip(cfg: Config, db: Db, promoted: str | None) -> str:
    """master_ip when another node is promoted and master_ip does not reach this node;
    otherwise the nowhere address, where a backup waits with its data intact."""
    if promoted is not None and promoted != cfg.ctx.cluster.node_name():
        if not cfg.reaches_self(cfg.master_ip, db):
            return cfg.master_ip
        cfg.ctx.log.warning(f"master_ip {cfg.master_ip} reaches this node's own {db.title} database; "
                            f"pointing it at nowhere_ip {cfg.nowhere_ip} instead of replicating from itself")
    return cfg.nowhere_ip


def source(cfg: Config, db: Db, promoted: str | None) -> str:
    """The remote ``db`` replicates from (``tcp:ADDR:PORT``)."""
    return ovsdb.remote(db.proto, source_ip(cfg, db, promoted), db.port)


def check_nowhere(cfg: Config) -> None:
    for db in cfg.dbs:
        if cfg.reaches_self(cfg.nowhere_ip, db):
            raise ArgsError(f"Parameter nowhere_ip={cfg.nowhere_ip!r} is invalid here: it reaches this node's own "
                            f"{db.title} database (listening on {cfg.listen_ip}), and a backup that "
                            "replicates from itself turns itself active")


def point_backups(cfg: Config, promoted: str | None) -> None:
    """Make both servers backups of ``promoted`` (or of nowhere), as ovn-ctl's demote does:
    the active-server file too, so that ovn-ctl and a restarted server agree."""
    for db in cfg.dbs:
        target = source(cfg, db, promoted)
        cfg.active_conf(db).write(target)
        ovsdb.make_backup(db.database, target, cfg.probe_to_promoted, cfg.timeout())


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
