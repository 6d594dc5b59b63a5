"""The start and stop actions: both servers up as backups, or both gone."""

from __future__ import annotations

import os

from ocf_agents.ocf.cluster import ClusterUnreachable
from ocf_agents.ocf.codes import OCFError, Rc
from ocf_agents.ovs import ovsdb

from . import barrier, clients, handoff, held_ip, score
from .election import compare
from .position import published_by, read_position, record_position
from .replication import (
    check_nowhere,
    listen_as_backup,
    point_backups,
    present_promoted,
    promoted_address,
    source,
    source_ip,
)
from .state import live_pids, read_state, wait_until

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config
    from .state import State

CONNECT_WAIT = 2.0  # seconds a fresh backup may take to reach the promoted node


def start(cfg: Config) -> int:
    """Both servers up as backups: of the promoted node if there is one, else of nowhere.

    Never returns 8: servers found active are demoted first (a restarted promoted node must
    wait for Pacemaker to promote it again), servers in a broken state are restarted.
    """
    check_nowhere(cfg)
    held_ip.remove(cfg)  # only a promoted instance holds it
    clients.forget(cfg)
    promoted = present_promoted(cfg.ctx)
    address = promoted_address(cfg, promoted)
    cfg.files.role.remove()
    keep_unreplicated_copy(cfg, promoted)
    state = read_state(cfg)
    if state.all_answering:
        handoff.withdraw(cfg)
        if not state.all_backups:
            cfg.ctx.log.info(f"start found {state.describe()}: making both backups")
            if cfg.manage_northd:
                cfg.stop_northd()
            listen_as_backup(cfg)
            point_backups(cfg, address)
        elif any(s.status.sync_from != source(cfg, s.db, address) for s in state.servers):
            point_backups(cfg, address)  # running already, but not replicating from where it should
    else:
        if state.any_running:
            cfg.ctx.log.warning(f"start found {state.describe()}: restarting both servers")
            stop_servers(cfg)
        for server in read_state(cfg).servers:
            if not server.running:  # stale: ovn-ctl would take a zombie's pidfile as running
                _remove(server.db.database.pidfile)
        cfg.files.handoff.remove()  # its listeners went with the servers
        cfg.ovn_ctl_run(*start_arguments(cfg, address), "start_ovsdb")
    state = wait_until(cfg, "both databases running as backups", lambda st: st.all_backups)
    if promoted is not None:
        state = _wait_connected(cfg, state)
    score.set_score(cfg, score.backup_score(cfg, state), required=True)
    return Rc.SUCCESS


def keep_unreplicated_copy(cfg: Config, promoted: str | None) -> None:
    """A node that failed while promoted may hold writes its successor never received (its
    backups were cut off). Joining as a backup replaces its databases with the successor's,
    so copy them first (``<db file>.unreplicated-<position>``) and say so in the log.

    Fresher as the election counts it (election.compare), against the position and barrier
    the successor published when it was promoted: this node holds a later barrier (the
    successor missed at least that commit, whatever the times say), or the same one and a
    clearly newer time position. This node's barrier is read from its files: its servers
    are usually down here."""
    mine = read_position(cfg)
    if promoted is None or not mine.promoted:
        return
    theirs = published_by(cfg, promoted)
    held = barrier.held_in_files(cfg)
    if compare(theirs, mine, held) >= 0:
        return
    import shutil  # here: every other call of the agent would pay for it

    for db in cfg.dbs:
        original = cfg.db_file(db)
        if not os.path.exists(original):
            continue
        copy = f"{original}.unreplicated-{mine.ms}"
        with open(original, "rb") as src, os.fdopen(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                                                     "wb") as dst:
            shutil.copyfileobj(src, dst)
        cfg.ctx.log.warning(f"this node's {db.title} data is newer than promoted node {promoted}'s "
                            f"(barrier {held or 'none'} here, {theirs.held or 'unknown'} there; position "
                            f"{mine.ms} here, {theirs.position.ms} there): kept a copy in {copy} before replicating")


def start_arguments(cfg: Config, address: str | None) -> list[str]:
    """ovn-ctl options for both databases: where to listen, SSL, whom to replicate from."""
    args = []
    for db in cfg.dbs:
        k = db.key
        args += [f"--db-{k}-port={db.port}", f"--db-{k}-addr={_bracketed(cfg.listen_ip)}"]
        if db.proto == "tcp":
            args.append(f"--db-{k}-create-insecure-remote=yes")
        else:
            key, cert, cacert = db.ssl_files
            args += [f"--ovn-{k}-db-ssl-key={key}", f"--ovn-{k}-db-ssl-cert={cert}",
                     f"--ovn-{k}-db-ssl-ca-cert={cacert}"]
        args += [
            f"--db-{k}-sync-from-addr={_bracketed(source_ip(cfg, db, address))}",
            f"--db-{k}-sync-from-port={db.port}",
            f"--db-{k}-sync-from-proto={db.proto}",
            f"--db-{k}-probe-interval-to-active={cfg.probe_to_promoted}",
        ]
        if cfg.lb_mode:
            args.append(f"--db-{k}-use-remote-in-db=no")
    return args


def _bracketed(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _wait_connected(cfg: Config, state: State) -> State:
    """A backup joining a promoted node connects within moments; wait a little for it so
    that its first score is right, but a slow link is no reason to fail the start."""
    def connected() -> State | None:
        seen = read_state(cfg)
        return seen if seen.all_connected else None

    try:
        return cfg.ctx.budget.wait_for("replication to connect", connected, 0.05, limit=CONNECT_WAIT)
    except OCFError:
        return state


def stop(cfg: Config) -> int:
    """Stop ovn-northd and both servers, wait until they are gone, clear the score."""
    state = read_state(cfg)
    if cfg.files.role.exists() and state.all_active:
        record_position(cfg, promoted=True)
    elif state.all_connected:
        record_position(cfg, promoted=False)
    held_ip.remove(cfg)
    if cfg.manage_northd or state.northd_running:
        cfg.stop_northd()
    stop_servers(cfg)
    cfg.files.clear_on_stop()
    try:
        cfg.ctx.cluster.delete_promotion_score()
        clients.forget(cfg)
    except ClusterUnreachable as err:
        cfg.ctx.log.warning(f"{err.reason}; the servers are stopped all the same")
    return Rc.SUCCESS


def stop_servers(cfg: Config) -> None:
    """ovn-ctl stop_ovsdb, then wait for both processes to exit (a zombie counts as gone).

    Only pids are looked at: a server that does not answer must not slow the stop down. It
    can keep ovn-ctl busy past the budget, though, and a failed stop gets the node fenced:
    after half the budget, the servers still there (and the ``--monitor`` processes that
    would restart them) are killed by pid.
    """
    if not live_pids(cfg):
        return
    budget = cfg.ctx.budget
    half = budget.remaining() / 2
    try:
        result = cfg.ctx.runner.run([cfg.ovn_ctl, "stop_ovsdb"], env=cfg.ovn_ctl_env(), timeout=half)
        if not result.ok:
            cfg.ctx.log.warning(f"ovn-ctl stop_ovsdb: {result.describe()}")
        budget.wait_for("both databases to exit", lambda: not live_pids(cfg), 0.05, limit=half)
        return
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: killing what is left")
    for pid in live_pids(cfg):
        ovsdb.kill_server(pid)
    budget.wait_for("both databases to exit after SIGKILL", lambda: not live_pids(cfg), 0.02)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
