"""ovndb-servers: OVN's northbound and southbound databases, one promoted copy in the cluster.

A drop-in replacement for OVN's own ``ocf:ovn:ovndb-servers``: the same parameters with the
same names, defaults and meanings. Each node runs two ``ovsdb-server`` processes (started and
stopped through ``ovn-ctl``, as OVN's agent does). The promoted node's servers are *active*
and take writes; the others are *backups* that replicate from ``master_ip`` (the address that
follows the promoted instance: an IPaddr2 VIP, or a load balancer).
"""

from __future__ import annotations

import os
import time

from ocf_agents import __version__
from ocf_agents.ocf.agent import Agent, Context
from ocf_agents.ocf.cluster import ClusterUnreachable
from ocf_agents.ocf.codes import (
    ArgsError,
    ConfigurationError,
    FailedPromotedError,
    GenericError,
    NotInstalledError,
    OCFError,
    Rc,
)
from ocf_agents.ocf.metadata import PROMOTED, UNPROMOTED, Action, MetaData, Parameter
from ocf_agents.ocf.record import Record
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.unixctl import UnixctlError

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from typing import Callable

    from ocf_agents.ocf.env import Notification

PROTOCOLS = ("tcp", "ssl")
MAX_PORT = 65535


# -- parameter validators: each raises ValueError saying why a value is wrong everywhere --
def check_ip(value: str) -> None:
    """An IPv4 or IPv6 address, as the kernel reads one (no host names, no zone ids)."""
    import _socket as socket  # the C module: socket.py pulls enum and selectors into every action

    family = socket.AF_INET6 if ":" in value else socket.AF_INET
    try:
        socket.inet_pton(family, value)
    except OSError:
        raise ValueError("it is not an IPv4 or IPv6 address") from None


def check_port(value: int) -> None:
    if not 1 <= value <= MAX_PORT:
        raise ValueError(f"a TCP port is between 1 and {MAX_PORT}")


def check_protocol(value: str) -> None:
    if value not in PROTOCOLS:
        raise ValueError("it must be tcp or ssl")


def check_milliseconds(value: int) -> None:
    if value < 0:
        raise ValueError("an interval in milliseconds cannot be negative (0 disables probes)")


def check_absolute_path(value: str) -> None:
    if not value.startswith("/") or any(ord(c) < 32 for c in value):
        raise ValueError("it must be an absolute path")


def check_score(value: int) -> None:
    if not 0 <= value <= 1000000:
        raise ValueError("a promotion score is between 0 and 1000000")


def _ssl_files(db: str, long_name: str) -> tuple[Parameter, ...]:
    """The key, certificate and CA certificate parameters of one database (as upstream)."""
    files = (
        ("privkey", "private key", f"ovn{db}-privkey.pem"),
        ("cert", "certificate", f"ovn{db}-cert.pem"),
        ("cacert", "CA certificate", "cacert.pem"),
    )
    return tuple(
        Parameter(
            f"ovn_{db}_db_{suffix}",
            f"OVN {db.upper()} DB {what} file",
            f"Absolute path of the {long_name} database's {what} (PEM), used when "
            f"{db}_master_protocol is ssl: for listening and for replicating from the "
            "promoted node. Checked to exist on this host when the protocol is ssl.",
            default=f"/etc/openvswitch/{name}",
            validate=check_absolute_path,
        )
        for suffix, what, name in files
    )


METADATA = MetaData(
    name="ovndb-servers",
    version=__version__,
    shortdesc="OVN northbound and southbound databases, active on the promoted node",
    longdesc=(
        "Manages OVN's two ovsdb-server databases (OVN_Northbound and OVN_Southbound) as a "
        "promotable clone: the promoted node's servers are active and accept writes, the "
        "unpromoted nodes' servers are backups replicating from master_ip, the address that "
        "follows the promoted instance (an IPaddr2 VIP colocated with the promoted role, or "
        "a load balancer with listen_on_master_ip_only=no). Configure it with notify=true. "
        "A drop-in replacement for OVN's ocf:ovn:ovndb-servers (same parameters), which "
        "also: reads the servers' state from their control sockets; reports mixed and "
        "half-dead states instead of calling them stopped; never returns promoted from "
        "start; promotes synchronously; prefers the replica with the freshest data when "
        "choosing whom to promote; in a planned switchover, copies the demoted node's final "
        "data before taking writes; and never lets a backup replicate from itself."
    ),
    parameters=(
        Parameter(
            "ovn_ctl",
            "ovn-ctl script",
            "Path of OVN's ovn-ctl script, used to start and stop the servers (and "
            "ovn-northd when manage_northd=yes).",
            default="/usr/share/ovn/scripts/ovn-ctl",
            validate=check_absolute_path,
        ),
        Parameter(
            "master_ip",
            "Address of the promoted node",
            "The IP address (IPv4 or IPv6) that reaches the promoted node's databases: the "
            "virtual IP colocated with the promoted role, or a load balancer's address. "
            "Backups replicate from it. With listen_on_master_ip_only=yes the databases "
            "also listen on it, and the promoted node's Connection rows name it. Required "
            "(OVN's agent accepted it empty and then never replicated).",
            validate=check_ip,
        ),
        Parameter(
            "nb_master_port",
            "Northbound database port",
            "TCP port the northbound database listens on and backups replicate from.",
            type="integer",
            default="6641",
            validate=check_port,
        ),
        Parameter(
            "nb_master_protocol",
            "Northbound database protocol",
            "tcp or ssl: how the northbound database listens and how backups replicate.",
            default="tcp",
            validate=check_protocol,
        ),
        Parameter(
            "sb_master_port",
            "Southbound database port",
            "TCP port the southbound database listens on and backups replicate from.",
            type="integer",
            default="6642",
            validate=check_port,
        ),
        Parameter(
            "sb_master_protocol",
            "Southbound database protocol",
            "tcp or ssl: how the southbound database listens and how backups replicate.",
            default="tcp",
            validate=check_protocol,
        ),
        Parameter(
            "manage_northd",
            "Run ovn-northd on the promoted node",
            "yes: ovn-northd runs on the promoted node only (started on promote, stopped on "
            "demote and stop), and a promoted instance without it is failed.",
            type="boolean",
            default="no",
        ),
        Parameter(
            "inactive_probe_interval",
            "Client inactivity probe (ms)",
            "inactivity_probe, in milliseconds, of the Connection rows the promoted node "
            "writes for both databases (0 disables it). Applied to existing rows too.",
            type="integer",
            default="5000",
            validate=check_milliseconds,
        ),
        Parameter(
            "inactive_probe_interval_to_master",
            "Backup-to-promoted probe (ms)",
            "Inactivity probe, in milliseconds, of a backup's replication connection to the "
            "promoted node (0 disables it).",
            type="integer",
            default="60000",
            validate=check_milliseconds,
        ),
        Parameter(
            "listen_on_master_ip_only",
            "Listen on master_ip only",
            "yes: the databases listen on master_ip (use with a VIP colocated with the "
            "promoted role). no: load-balancer mode: they listen on listen_ip (by default "
            "0.0.0.0), backups ignore the Connection rows, and the promoted node's rows "
            "target that address.",
            type="boolean",
            default="yes",
        ),
        *_ssl_files("nb", "northbound"),
        *_ssl_files("sb", "southbound"),
        Parameter(
            "listen_ip",
            "Listening address in load-balancer mode",
            "With listen_on_master_ip_only=no: the address the databases listen on instead of "
            "0.0.0.0 (for example this node's own address, so that the databases are not "
            "exposed on every interface). Ignored with listen_on_master_ip_only=yes.",
            validate=check_ip,
        ),
        Parameter(
            "nowhere_ip",
            "Address a backup waits on when nobody is promoted",
            "A backup started while no node is promoted is pointed at this address, where "
            "no database answers, so that it keeps its data until a promoted node exists "
            "(an empty replica would otherwise be copied over it). OVN's agent hard-codes "
            "192.0.2.254 (TEST-NET-1, RFC 5737). It must not reach this node's own "
            "databases: a backup that replicates from itself turns itself active.",
            default="192.0.2.254",
            validate=check_ip,
        ),
        Parameter(
            "ovn_rundir",
            "Run directory (OVN_RUNDIR)",
            "Directory of the servers' pidfiles, database sockets and control sockets, "
            "passed to ovn-ctl as OVN_RUNDIR. Different per instance when several run on "
            "one host.",
            default="/var/run/ovn",
            validate=check_absolute_path,
        ),
        Parameter(
            "ovn_dbdir",
            "Database directory (OVN_DBDIR)",
            "Directory of the database files ovnnb_db.db and ovnsb_db.db, passed to ovn-ctl "
            "as OVN_DBDIR.",
            default="/var/lib/ovn",
            validate=check_absolute_path,
        ),
        Parameter(
            "ovn_logdir",
            "Log directory (OVN_LOGDIR)",
            "Directory of the servers' log files, passed to ovn-ctl as OVN_LOGDIR.",
            default="/var/log/ovn",
            validate=check_absolute_path,
        ),
        Parameter(
            "ovn_sysconfdir",
            "System configuration directory (OVN_SYSCONFDIR)",
            "Directory whose ovn/ subdirectory holds ovn-ctl's replication settings "
            "(ovnnb-active.conf, ovnsb-active.conf), passed to ovn-ctl as OVN_SYSCONFDIR.",
            default="/etc",
            validate=check_absolute_path,
        ),
        Parameter(
            "promoted_score",
            "Promotion score of the promoted node",
            "Promotion score the promoted node keeps (OVN's agent: 10).",
            type="integer",
            default="10",
            validate=check_score,
        ),
        Parameter(
            "replicating_score",
            "Promotion score of a replicating backup",
            "Promotion score of a backup that replicates from the promoted node, and of the "
            "last promoted node when nobody is promoted (OVN's agent: 5 for every backup).",
            type="integer",
            default="5",
            validate=check_score,
        ),
        Parameter(
            "stale_score",
            "Promotion score of a backup that does not replicate",
            "Promotion score of a backup whose data may be behind: one pointed at nowhere_ip, "
            "or not connected to the promoted node. Lower than replicating_score, so that "
            "Pacemaker promotes a stale replica only when no fresh one is available.",
            type="integer",
            default="1",
            validate=check_score,
        ),
    ),
    actions=(
        Action("start", timeout=30),
        Action("stop", timeout=20),
        Action("promote", timeout=50),
        Action("demote", timeout=50),
        Action("notify", timeout=20),
        Action("monitor", timeout=20, interval=10, role=PROMOTED, depth=0),
        Action("monitor", timeout=20, interval=30, role=UNPROMOTED, depth=0),
        Action("meta-data", timeout=5),
        Action("validate-all", timeout=20),
    ),
)


# Files the agent keeps beside the servers' own. The role marker lives in the run directory
# (it must not survive a reboot: the servers do not either); the data position lives beside
# the database files, because it describes them.
ROLE_FILE = "ovndb-servers.promoted"
SCORE_FILE = "ovndb-servers.score"
CANDIDATES_FILE = "ovndb-servers.candidates"
POSITION_FILE = "ovndb-servers.position"
OUTRANKED_FILE = "ovndb-servers.outranked"
# The cluster property naming the last promoted node, in the property set OVN's agent keeps it
# in: a cluster migrating from that agent has it there, and with a second copy in another set
# crm_attribute refuses to choose.
REPL_INFO = "OVN_REPL_INFO"
REPL_INFO_SET = "ovn_ovsdb_master_server"
# Cluster nodes' clocks agree to well within this (chrony/NTP): positions compare with it.
CLOCK_SKEW_MS = 1000
# A backup cut off from the promoted node keeps the replicating score for two of its monitor
# intervals and this much since its last connected position (docs/ovndb-monitor-states.md).
GRACE_SLACK_MS = 4000
CONNECT_WAIT = 2.0  # seconds a fresh backup may take to reach the promoted node
HANDOFF_FILE = "ovndb-servers.handoff"  # the address a demoted node offers its final data on
HANDOFF_CONNECT_WAIT = 3.0  # seconds a promoting node may take to reach the demoted node


# -- configuration: what the parameters mean for this node ---------------------------------
class Db(Record):
    """One database with its parameters: port, protocol and SSL files."""

    server: ovsdb.Database
    port: int
    proto: str
    ssl_files: tuple[str, str, str]  # private key, certificate, CA certificate


class Config:
    """The parameters, read once, and the addresses and commands derived from them."""

    def __init__(self, ctx: Context) -> None:
        p = ctx.params
        self.ctx = ctx
        self.ovn_ctl = str(p["ovn_ctl"])
        self.master_ip = p["master_ip"]
        self.nowhere_ip = str(p["nowhere_ip"])
        self.lb_mode = not p["listen_on_master_ip_only"]
        self.listen_ip = str(p["listen_ip"] or "0.0.0.0") if self.lb_mode else self.master_ip
        self.manage_northd = bool(p["manage_northd"])
        self.probe = int(p["inactive_probe_interval"])
        self.probe_to_master = int(p["inactive_probe_interval_to_master"])
        self.rundir = str(p["ovn_rundir"])
        self.dbdir = str(p["ovn_dbdir"])
        self.sysconfdir = str(p["ovn_sysconfdir"])
        self.scores = {"promoted": p["promoted_score"], "replicating": p["replicating_score"], "stale": p["stale_score"]}
        nb, sb = ovsdb.databases(self.rundir)
        self.dbs = (
            Db(nb, int(p["nb_master_port"]), str(p["nb_master_protocol"]),
               (p["ovn_nb_db_privkey"], p["ovn_nb_db_cert"], p["ovn_nb_db_cacert"])),
            Db(sb, int(p["sb_master_port"]), str(p["sb_master_protocol"]),
               (p["ovn_sb_db_privkey"], p["ovn_sb_db_cert"], p["ovn_sb_db_cacert"])),
        )

    def ovn_ctl_env(self) -> dict[str, str]:
        """ovn-ctl finds every file from these (OVS_RUNDIR: where it looks for ovn-northd)."""
        return {
            "PATH": os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C",
            "OVN_RUNDIR": self.rundir,
            "OVS_RUNDIR": self.rundir,
            "OVN_DBDIR": self.dbdir,
            "OVN_LOGDIR": str(self.ctx.params["ovn_logdir"]),
            "OVN_SYSCONFDIR": self.sysconfdir,
        }

    def ovn_ctl_run(self, *args: str) -> None:
        result = self.ctx.runner.run([self.ovn_ctl, *args], env=self.ovn_ctl_env())
        if not result.ok:
            self.ctx.log.warning(f"ovn-ctl {args[-1]}: {result.describe()}")

    def active_conf_file(self, db: Db) -> str:
        """Where ovn-ctl keeps a backup's active server (its promote/demote read it)."""
        return os.path.join(self.sysconfdir, "ovn", f"ovn{db.server.key}-active.conf")

    def state_file(self, name: str) -> str:
        return os.path.join(self.dbdir if name == POSITION_FILE else self.rundir, name)

    def reaches_self(self, ip: str, db: Db) -> bool:
        """Would replicating from ``ip`` reach this node's own ``db``? A backup told to sync
        from itself turns itself active (ovsdb-server refuses self-replication)."""
        same = self.listening_everywhere or ip == self.listen_ip
        return same and ovsdb.address_is_local(ip)

    @property
    def listening_everywhere(self) -> bool:
        return self.listen_ip in ("0.0.0.0", "::")


# -- reading the state ---------------------------------------------------------------------
class Server(Record):
    """What one database server looks like right now."""

    db: Db
    pid: int | None
    status: ovsdb.SyncStatus | None
    connection: ovsdb.TcpConnection | None  # a backup's live link to its active server

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def role(self) -> str:
        """active / backup, or not-running / not-answering."""
        if self.pid is None:
            return "not-running"
        return self.status.role if self.status is not None else "not-answering"


class State(Record):
    servers: tuple[Server, Server]
    northd_running: bool

    @property
    def roles(self) -> set[str]:
        return {s.role for s in self.servers}

    def describe(self) -> str:
        text = ", ".join(f"{s.db.server.title} {s.role}" for s in self.servers)
        return text + (", ovn-northd running" if self.northd_running else "")


def read_state(cfg: Config) -> State:
    seen = []
    timeout = min(ovsdb.DEFAULT_TIMEOUT, max(0.1, cfg.ctx.budget.remaining()))
    for db in cfg.dbs:
        pid = ovsdb.live_pid(db.server.pidfile, ovsdb.SERVER_PROGRAM)
        status = None
        if pid is not None:
            try:
                status = ovsdb.sync_status(db.server, timeout)
            except (UnixctlError, ovsdb.OvsdbError) as err:
                cfg.ctx.log.warning(str(err))
        seen.append((db, pid, status))
    # One read of the kernel's TCP table for both backups (each read walks all of it).
    backups = [(pid, status.sync_from if status is not None and status.role == "backup" else None)
               for _, pid, status in seen]
    servers = [Server(db, pid, status, connection)
               for (db, pid, status), connection in zip(seen, ovsdb.replication_connections(backups))]
    northd = ovsdb.live_pid(os.path.join(cfg.rundir, "ovn-northd.pid"), ovsdb.NORTHD_PROGRAM)
    return State((servers[0], servers[1]), northd is not None)


# -- small persistent facts ----------------------------------------------------------------
def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def _write(path: str, text: str) -> None:
    """Write atomically with tight permissions (the directory may be shared)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    tmp = f"{path}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(tmp, path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def is_marked_promoted(cfg: Config) -> bool:
    return os.path.exists(cfg.state_file(ROLE_FILE))


def now_ms() -> int:
    return int(time.time() * 1000)


class Position(Record):
    """How fresh a node's data is: when it was last known complete (ms since the epoch, 0:
    never), whether the node was promoted then, and the interval of the monitor that records
    it (ms): the data may have stayed complete that long after ``ms`` without a record (0
    once nothing records it any more: stopped). Kept in the position file and published for
    the election as ``"<ms> promoted|backup <interval_ms>"``."""

    ms: int
    promoted: bool
    interval_ms: int

    def __str__(self) -> str:
        return f"{self.ms} {'promoted' if self.promoted else 'backup'} {self.interval_ms}"

    def clearly_fresher(self, other: Position) -> bool:
        """Newer than ``other`` by more than either position's precision (the larger
        recorded monitor interval, plus clock skew); closer positions count as equal."""
        return self.ms - other.ms > max(self.interval_ms, other.interval_ms) + CLOCK_SKEW_MS

    def within_grace(self, now: int) -> bool:
        """Could this backup's data still be as fresh as any other backup's? After the
        promoted node fails, each backup's next monitor (within one interval) finds it
        disconnected, at most two intervals after its last connected position."""
        return now - self.ms <= 2 * self.interval_ms + GRACE_SLACK_MS


def parse_position(text: str | None) -> Position:
    """A position as written by :class:`Position`; never recorded or unreadable: 0."""
    words = (text or "").split()
    try:
        return Position(int(words[0]), words[1:2] == ["promoted"], int(words[2]) if words[2:] else 0)
    except (IndexError, ValueError):
        return Position(0, False, 0)


def read_position(cfg: Config) -> Position:
    return parse_position(_read(cfg.state_file(POSITION_FILE)))


def record_position(cfg: Config, promoted: bool) -> None:
    """This node's data is complete as of now: it is promoted, or a connected backup. The
    interval is the recurring monitor's (others keep the last one); 0 on stop."""
    if cfg.ctx.action == "stop":
        interval = 0
    else:
        interval = cfg.ctx.env.interval_ms or read_position(cfg).interval_ms
    _write(cfg.state_file(POSITION_FILE), str(Position(now_ms(), promoted, interval)))


# -- promotion scores ------------------------------------------------------------------------
def set_score(cfg: Config, kind: str, required: bool) -> None:
    """Set this node's promotion score; a recurring monitor skips unchanged scores.

    ``required``: start, promote and demote fail when the cluster cannot record the score
    (Pacemaker would otherwise act on a stale one); a monitor only logs it, because the
    state it reports is true whatever the CIB does.
    """
    score = int(cfg.scores[kind])
    cache = cfg.state_file(SCORE_FILE)
    cached = _read(cache)
    if cfg.ctx.action == "monitor" and not cfg.ctx.is_probe and cached == str(score):
        return
    try:
        cfg.ctx.cluster.set_promotion_score(score, known=int(cached) if cached and cached.isdigit() else None)
    except ClusterUnreachable as err:
        if required:
            raise
        cfg.ctx.log.warning(f"{err.reason}; the promotion score stays as it was")
        return
    _write(cache, str(score))


def backup_score(cfg: Config, state: State) -> str:
    """replicating for a backup connected to the promoted node (its data is current), for
    one cut off from it within the grace period (when the promoted node fails, every backup
    is cut off: the fresh ones must still outrank one cut off long before), and for the last
    promoted node waiting on nowhere_ip while nobody is promoted; stale otherwise."""
    if all(s.connection is not None for s in state.servers):
        return "replicating"
    position = read_position(cfg)
    if _read(cfg.state_file(OUTRANKED_FILE)) == str(position):
        return "stale"  # the election refused this data: no restart may raise it again
    if all(_sync_ip(s) == cfg.nowhere_ip for s in state.servers):
        return "replicating" if position.promoted else "stale"
    return "replicating" if position.within_grace(now_ms()) else "stale"


def _sync_ip(server: Server) -> str | None:
    parsed = ovsdb.parse_remote(server.status.sync_from or "") if server.status else None
    return parsed[1] if parsed else None


# -- whom to replicate from ------------------------------------------------------------------
def present_master(ctx: Context) -> str | None:
    """The node that is and stays promoted in this transition, from the notify variables:
    the first promoted node that is not being demoted (as OVN's agent decides)."""
    notification = ctx.env.notification()
    leaving = set(notification.demote.unames) | set(notification.stop.unames)
    for uname in notification.promoted.unames:
        if uname not in leaving:
            return uname
    return None


def sync_ip(cfg: Config, db: Db, master: str | None) -> str:
    """master_ip when another node is promoted and master_ip does not reach this node;
    otherwise the nowhere address, where a backup waits with its data intact."""
    if master is not None and master != cfg.ctx.cluster.node_name():
        if not cfg.reaches_self(cfg.master_ip, db):
            return cfg.master_ip
        cfg.ctx.log.warning(f"master_ip {cfg.master_ip} reaches this node's own {db.server.title} database; "
                            f"pointing it at nowhere_ip {cfg.nowhere_ip} instead of replicating from itself")
    return cfg.nowhere_ip


def check_nowhere(cfg: Config) -> None:
    for db in cfg.dbs:
        if cfg.reaches_self(cfg.nowhere_ip, db):
            raise ArgsError(f"Parameter nowhere_ip={cfg.nowhere_ip!r} is invalid here: it reaches this node's own "
                            f"{db.server.title} database (listening on {cfg.listen_ip}), and a backup that "
                            "replicates from itself turns itself active")


def point_backups(cfg: Config, master: str | None) -> None:
    """Make both servers backups of ``master`` (or of nowhere), as ovn-ctl's demote does:
    the active-server file too, so that ovn-ctl and a restarted server agree."""
    for db in cfg.dbs:
        target = _target(cfg, db, master)
        _write(cfg.active_conf_file(db), target)
        ovsdb.make_backup(db.server, target, cfg.probe_to_master, _timeout(cfg))


def _target(cfg: Config, db: Db, master: str | None) -> str:
    return ovsdb.remote(db.proto, sync_ip(cfg, db, master), db.port)


def _timeout(cfg: Config) -> float:
    return max(0.1, min(ovsdb.DEFAULT_TIMEOUT, cfg.ctx.budget.remaining()))


# -- actions ---------------------------------------------------------------------------------
def monitor(ctx: Context) -> int:
    """7 stopped, 0 both backups, 8 both active (and ovn-northd when managed), 9 a promoted
    instance that is broken, 1 anything else that runs (docs/ovndb-monitor-states.md)."""
    cfg = Config(ctx)
    state = read_state(cfg)
    # A probe of a node where nothing runs says so, whatever the node was before.
    promoted = is_marked_promoted(cfg) and not (ctx.is_probe and state.roles == {"not-running"})
    rc = classify(state, promoted, cfg.manage_northd)
    if rc == Rc.RUNNING_PROMOTED:
        note_restarts(cfg, state)
        record_position(cfg, promoted=True)
        set_score(cfg, "promoted", required=False)
    elif rc == Rc.SUCCESS:
        if all(s.connection is not None for s in state.servers):
            record_position(cfg, promoted=False)
        else:
            _warn_not_replicating(cfg, state)
        set_score(cfg, backup_score(cfg, state), required=False)
    return rc


def note_restarts(cfg: Config, state: State) -> None:
    """ovsdb-server's --monitor restarts a crashed server within a second or two, and the
    server keeps its role: the only trace is a new pid. Log it, so the crash is not missed.

    The role file holds the pids as ``nb=PID sb=PID`` (plain words: a monitor that parsed
    JSON would import ``json`` on every call). Any other content counts as no record: the
    ``{}`` promote writes first, and the JSON of earlier versions (after an upgrade, the
    first monitor records the pids again without a warning).
    """
    pids = " ".join(f"{s.db.server.key}={s.pid}" for s in state.servers)
    recorded = " ".join(w for w in (_read(cfg.state_file(ROLE_FILE)) or "").split() if "=" in w)
    if recorded != pids:
        if recorded:
            cfg.ctx.log.warning(f"promoted servers were restarted (pids {recorded} -> {pids}): a crash?")
        _write(cfg.state_file(ROLE_FILE), pids)


def _warn_not_replicating(cfg: Config, state: State) -> None:
    for server in state.servers:
        if server.connection is None and _sync_ip(server) != cfg.nowhere_ip:
            cfg.ctx.log.warning(f"{server.db.server.title} backup is not connected to "
                                f"{server.status.sync_from if server.status else '?'}: its data may be stale")


def classify(state: State, promoted: bool, manage_northd: bool) -> int:
    """The monitor's answer for a state (``promoted``: this node was promoted and not
    demoted since); raises with a reason for the failures."""
    roles = state.roles
    if roles == {"not-running"}:
        if state.northd_running and manage_northd:
            raise GenericError(f"ovn-northd runs without its databases ({state.describe()})")
        if promoted:
            raise FailedPromotedError(f"The promoted databases are gone ({state.describe()})")
        return Rc.NOT_RUNNING
    if roles == {"backup"} and not promoted:
        return Rc.SUCCESS
    if roles == {"active"}:
        if manage_northd and not state.northd_running:
            raise FailedPromotedError(f"ovn-northd is not running on the promoted node ({state.describe()})")
        return Rc.RUNNING_PROMOTED
    if promoted:
        raise FailedPromotedError(f"The promoted instance is broken: {state.describe()}")
    raise GenericError(f"The databases are in a mixed or half-dead state: {state.describe()}")


def start(ctx: Context) -> int:
    """Both servers up as backups: of the promoted node if there is one, else of nowhere.

    Never returns 8: servers found active are demoted first (a restarted promoted node must
    wait for Pacemaker to promote it again), servers in a broken state are restarted.
    """
    cfg = Config(ctx)
    check_nowhere(cfg)
    master = present_master(ctx)
    _remove(cfg.state_file(ROLE_FILE))
    keep_unreplicated_copy(cfg, master)
    state = read_state(cfg)
    if all(s.status is not None for s in state.servers):
        withdraw_handoff(cfg)
        if state.roles != {"backup"}:
            ctx.log.info(f"start found {state.describe()}: making both backups")
            if cfg.manage_northd:
                cfg.ovn_ctl_run("--ovn-manage-ovsdb=no", "stop_northd")
            _listen_as_backup(cfg)
            point_backups(cfg, master)
        elif any(s.status.sync_from != _target(cfg, s.db, master) for s in state.servers if s.status):
            point_backups(cfg, master)  # running already, but not replicating from where it should
    else:
        if any(s.running for s in state.servers):
            ctx.log.warning(f"start found {state.describe()}: restarting both servers")
            stop_servers(cfg)
        for server in read_state(cfg).servers:
            if not server.running:  # stale: ovn-ctl would take a zombie's pidfile as running
                _remove(server.db.server.pidfile)
        _remove(cfg.state_file(HANDOFF_FILE))  # its listeners went with the servers
        cfg.ovn_ctl_run(*start_arguments(cfg, master), "start_ovsdb")
    state = wait_until(cfg, "both databases running as backups", lambda st: st.roles == {"backup"})
    if master is not None:
        state = _wait_connected(cfg, state)
    set_score(cfg, backup_score(cfg, state), required=True)
    return Rc.SUCCESS


def keep_unreplicated_copy(cfg: Config, master: str | None) -> None:
    """A node that failed while promoted may hold writes its successor never received (its
    backups were cut off). Joining as a backup replaces its databases with the successor's,
    so copy them first (``<db file>.unreplicated-<position>``) and say so in the log."""
    mine = read_position(cfg)
    if master is None or not mine.promoted:
        return
    theirs = parse_position(cfg.ctx.cluster.private_attribute(position_attribute(cfg.ctx), node=master))
    if not mine.clearly_fresher(theirs):
        return
    import shutil  # here: every other call of the agent would pay for it

    for db in cfg.dbs:
        source = os.path.join(cfg.dbdir, f"ovn{db.server.key}_db.db")
        if not os.path.exists(source):
            continue
        copy = f"{source}.unreplicated-{mine.ms}"
        with open(source, "rb") as src, os.fdopen(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                                                   "wb") as dst:
            shutil.copyfileobj(src, dst)
        cfg.ctx.log.warning(f"this node's {db.server.title} data is newer than promoted node {master}'s "
                            f"(position {mine.ms} > {theirs.ms}): kept a copy in {copy} before replicating")


def start_arguments(cfg: Config, master: str | None) -> list[str]:
    """ovn-ctl options for both databases: where to listen, SSL, whom to replicate from."""
    args = []
    for db in cfg.dbs:
        k = db.server.key
        source = sync_ip(cfg, db, master)
        args += [f"--db-{k}-port={db.port}", f"--db-{k}-addr={_bracketed(cfg.listen_ip)}"]
        if db.proto == "tcp":
            args.append(f"--db-{k}-create-insecure-remote=yes")
        else:
            key, cert, cacert = db.ssl_files
            args += [f"--ovn-{k}-db-ssl-key={key}", f"--ovn-{k}-db-ssl-cert={cert}",
                     f"--ovn-{k}-db-ssl-ca-cert={cacert}"]
        args += [
            f"--db-{k}-sync-from-addr={_bracketed(source)}",
            f"--db-{k}-sync-from-port={db.port}",
            f"--db-{k}-sync-from-proto={db.proto}",
            f"--db-{k}-probe-interval-to-active={cfg.probe_to_master}",
        ]
        if cfg.lb_mode:
            args.append(f"--db-{k}-use-remote-in-db=no")
    return args


def _bracketed(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _wait_connected(cfg: Config, state: State) -> State:
    """A backup joining a promoted node connects within moments; wait a little for it so
    that its first score is right, but a slow link is no reason to fail the start."""
    try:
        return cfg.ctx.budget.wait_for("replication to connect", lambda: _connected_state(cfg), 0.05,
                                       limit=CONNECT_WAIT)
    except OCFError:
        return state


def _connected_state(cfg: Config) -> State | None:
    state = read_state(cfg)
    return state if all(s.connection is not None for s in state.servers) else None


def wait_until(cfg: Config, what: str, condition) -> State:
    """Poll the state until ``condition`` holds, within the action's budget."""
    last: list[State] = []

    def check() -> State | None:
        state = read_state(cfg)
        last[:] = [state]
        return state if condition(state) else None

    try:
        return cfg.ctx.budget.wait_for(what, check, 0.05)
    except OCFError as err:
        seen = last[0].describe() if last else "nothing"
        raise GenericError(f"{err.reason}; last seen: {seen}") from None


def stop(ctx: Context) -> int:
    """Stop ovn-northd and both servers, wait until they are gone, clear the score."""
    cfg = Config(ctx)
    state = read_state(cfg)
    if is_marked_promoted(cfg) and state.roles == {"active"}:
        record_position(cfg, promoted=True)
    elif all(s.connection is not None for s in state.servers):
        record_position(cfg, promoted=False)
    if cfg.manage_northd or state.northd_running:
        cfg.ovn_ctl_run("--ovn-manage-ovsdb=no", "stop_northd")
    stop_servers(cfg)
    _remove(cfg.state_file(ROLE_FILE))
    _remove(cfg.state_file(SCORE_FILE))
    _remove(cfg.state_file(HANDOFF_FILE))
    try:
        ctx.cluster.delete_promotion_score()
    except ClusterUnreachable as err:
        ctx.log.warning(f"{err.reason}; the servers are stopped all the same")
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
    half = cfg.ctx.budget.remaining() / 2
    try:
        result = cfg.ctx.runner.run([cfg.ovn_ctl, "stop_ovsdb"], env=cfg.ovn_ctl_env(), timeout=half)
        if not result.ok:
            cfg.ctx.log.warning(f"ovn-ctl stop_ovsdb: {result.describe()}")
        cfg.ctx.budget.wait_for("both databases to exit", lambda: not live_pids(cfg), 0.05, limit=half)
        return
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: killing what is left")
    for pid in live_pids(cfg):
        ovsdb.kill_server(pid)
    cfg.ctx.budget.wait_for("both databases to exit after SIGKILL", lambda: not live_pids(cfg), 0.02)


def live_pids(cfg: Config) -> list[int]:
    pids = (ovsdb.live_pid(db.server.pidfile, ovsdb.SERVER_PROGRAM) for db in cfg.dbs)
    return [pid for pid in pids if pid is not None]


def promote(ctx: Context) -> int:
    """Both servers active, Connection rows written, ovn-northd running when managed.

    Synchronous: returns once both databases accept writes. "Already promoted" succeeds
    and is recorded again (a node reset while promoted must not loop).
    """
    cfg = Config(ctx)
    state = read_state(cfg)
    if not all(s.status is not None for s in state.servers):
        raise GenericError(f"Cannot promote: {state.describe()}")
    withdraw_handoff(cfg)
    if state.roles != {"active"}:
        catch_up(cfg, elect(cfg))
        for db in cfg.dbs:
            _remove(cfg.active_conf_file(db))
            ovsdb.make_active(db.server, _timeout(cfg))
    _write(cfg.state_file(ROLE_FILE), "{}")
    for db in cfg.dbs:
        listen = _listen_remote(cfg, db)
        ovsdb.ensure_global_row(db.server, _timeout(cfg))
        ovsdb.set_connection(db.server, listen, cfg.probe, db.port, _timeout(cfg))
        if cfg.lb_mode:
            ovsdb.add_remote(db.server, _db_remote(db), _timeout(cfg))
    if cfg.manage_northd:
        cfg.ovn_ctl_run("--ovn-manage-ovsdb=no", "start_northd")
    wait_until(cfg, "both databases active" + (" and ovn-northd running" if cfg.manage_northd else ""),
               lambda st: st.roles == {"active"} and (st.northd_running or not cfg.manage_northd))
    note_restarts(cfg, read_state(cfg))
    hint_nonlocal_bind(cfg)
    record_position(cfg, promoted=True)
    _remove(cfg.state_file(CANDIDATES_FILE))
    ctx.cluster.concurrently(
        lambda: ctx.cluster.set_cluster_property(REPL_INFO, ctx.cluster.node_name(), set_id=REPL_INFO_SET),
        lambda: set_score(cfg, "promoted", required=True))
    return Rc.SUCCESS


def hint_nonlocal_bind(cfg: Config) -> None:
    """With a VIP the servers listen on master_ip, which IPaddr2 adds only after the promote.
    Unless the kernel lets them bind an address the node does not hold yet, they bind it when
    ovsdb-server next wakes up, up to about 2.5 s after the VIP is up (measured in the lab:
    docs/performance.md). Say so where an operator looks for the reason."""
    if cfg.lb_mode or ovsdb.address_is_local(cfg.master_ip):
        return
    key = f"net.{'ipv6' if ':' in cfg.master_ip else 'ipv4'}.ip_nonlocal_bind"
    if _read("/proc/sys/" + key.replace(".", "/")) == "0":
        cfg.ctx.log.info(f"{key}=0: the databases will listen on master_ip {cfg.master_ip} only when "
                         "ovsdb-server next wakes up after the VIP starts (up to about 2.5 s); set "
                         f"{key}=1 to have them listen at once (docs/guide.md)")


def _listen_remote(cfg: Config, db: Db) -> str:
    """The Connection row's target: master_ip, or listen_ip (0.0.0.0) in load-balancer mode."""
    return ovsdb.remote(db.proto, cfg.listen_ip, db.port, passive=True)


def _db_remote(db: Db) -> str:
    return f"db:{db.server.schema},{db.server.global_table},connections"


def _listen_as_backup(cfg: Config) -> None:
    """In load-balancer mode only the promoted node listens on its Connection rows."""
    if cfg.lb_mode:
        for db in cfg.dbs:
            ovsdb.remove_remote(db.server, _db_remote(db), _timeout(cfg))


def catch_up(cfg: Config, handoff: str | None) -> None:
    """In a planned switchover, copy the demoted node's final data before taking writes.

    Writes the demoted node acknowledged last may not have reached this node: the VIP left
    that node before it was demoted, which cuts the replication session off mid-stream, and
    turning read-only closes it. The demoted node offers its frozen, read-only databases on
    its own address (``handoff``, see :func:`offer_handoff`): replicate from there until the
    copy is complete and nothing is left unread. The backups start it in the post-demote
    notification; promote waits for it (or makes it) before turning the servers active.
    Bounded: unreachable within a few seconds, or not copied within half the remaining
    budget, go on with the data received so far, and say so.
    """
    if handoff is None:
        return
    if any(cfg.reaches_self(handoff, db) for db in cfg.dbs):
        cfg.ctx.log.warning(f"the demoted node's address {handoff} reaches this node's own databases: not copying")
        return
    targets = {db.server.key: ovsdb.remote(db.proto, handoff, db.port) for db in cfg.dbs}

    def connected(state: State) -> bool:
        return all(s.connection is not None and s.status.sync_from == targets[s.db.server.key]
                   for s in state.servers)

    if not connected(read_state(cfg)):  # else copying from there already (post-demote)
        for db in cfg.dbs:
            ovsdb.make_backup(db.server, targets[db.server.key], cfg.probe_to_master, _timeout(cfg))

    def copied() -> bool:
        state = read_state(cfg)
        return connected(state) and all(s.status.replicating and s.connection.rx_queue == 0 for s in state.servers)

    budget = cfg.ctx.budget
    try:
        budget.wait_for(f"replication from the demoted node at {handoff}", lambda: connected(read_state(cfg)),
                        0.05, limit=HANDOFF_CONNECT_WAIT)
        budget.wait_for(f"the demoted node's final data from {handoff}", copied, 0.05,
                        limit=budget.remaining() / 2)
        time.sleep(0.05)  # the server applies what it read in the same loop iteration
        cfg.ctx.log.info(f"copied the demoted node's final data from {handoff}")
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: going on with the data received so far")


def elect(cfg: Config) -> str | None:
    """The pre-promote election (PAF's idea): refuse to promote this node when another
    candidate's data is fresher, and hand that node the higher score. Returns the address a
    demoted candidate offers its final data on (a planned switchover), if any: the freshest
    such candidate's.

    Positions were published as private node attributes in the pre-promote notification; without
    notifications there is nothing to compare and promotion goes ahead.
    """
    raw = _read(cfg.state_file(CANDIDATES_FILE))
    _remove(cfg.state_file(CANDIDATES_FILE))
    if not raw:
        return None
    import json  # here: only a promotion reads the plan; every other call would pay for json

    plan = json.loads(raw)
    mine = read_position(cfg)
    name = position_attribute(cfg.ctx)
    published = dict(zip(plan["candidates"], cfg.ctx.cluster.concurrently(
        *[lambda node=node: cfg.ctx.cluster.private_attribute(name, node=node) for node in plan["candidates"]])))
    positions = {node: parse_position(text) for node, text in published.items()}
    best = max(positions, key=lambda node: positions[node].ms, default=None)
    if best is not None and positions[best].clearly_fresher(mine):
        cfg.ctx.cluster.set_promotion_score(int(cfg.scores["replicating"]), node=best)
        _write(cfg.state_file(OUTRANKED_FILE), str(mine))
        set_score(cfg, "stale", required=True)
        raise GenericError(f"Not promoting {cfg.ctx.cluster.node_name()}: node {best} has fresher data "
                           f"(position {positions[best].ms} > {mine.ms}, monitor intervals "
                           f"{positions[best].interval_ms}/{mine.interval_ms} ms); its promotion score is "
                           "raised instead")
    offers = {node: handoff_address(text) for node, text in published.items()}
    offering = [node for node, address in offers.items() if address]
    return offers[max(offering, key=lambda node: positions[node].ms)] if offering else None


def position_attribute(ctx: Context) -> str:
    """A private attribute (attrd only): a transient attribute in the CIB would abort the
    transition at each pre-promote notification, which would write it again, forever. Not
    the old ``-data-position`` name: attrd keeps an existing attribute public."""
    return f"{ctx.env.resource_name}-data-position-private"


def demote(ctx: Context) -> int:
    """Both servers backups with their data: of the surviving promoted node if there is
    one, else of nowhere. ovn-northd is stopped when managed."""
    cfg = Config(ctx)
    state = read_state(cfg)
    if not any(s.running for s in state.servers):
        return Rc.NOT_RUNNING
    if not all(s.status is not None for s in state.servers):
        raise GenericError(f"Cannot demote: {state.describe()}")
    if cfg.manage_northd:
        cfg.ovn_ctl_run("--ovn-manage-ovsdb=no", "stop_northd")
    was_promoted = "active" in state.roles
    withdraw_handoff(cfg)
    _listen_as_backup(cfg)
    point_backups(cfg, present_master(ctx))
    wait_until(cfg, "both databases backups", lambda st: st.roles == {"backup"})
    if was_promoted:
        record_position(cfg, promoted=True)
        offer_handoff(cfg)
    _remove(cfg.state_file(ROLE_FILE))
    set_score(cfg, "replicating" if was_promoted else backup_score(cfg, read_state(cfg)), required=True)
    return Rc.SUCCESS


# -- the switchover hand-off: the demoted node's final data, copied before promotion ---------
def offer_handoff(cfg: Config) -> None:
    """Let a successor copy this demoted node's final data from this node's own address.

    Offered whenever a promoted node is demoted: Pacemaker usually promotes the successor in
    a later transition (the demote's score change aborts the first one), so the demote's
    notify variables do not say whether a promotion follows.

    With a VIP, the databases listen on master_ip only, which has left this node by now: add
    a listener on the address this node reaches master_ip's network from, until the successor
    is promoted (:func:`withdraw_handoff`). The databases are read-only backups: nothing can
    be written through it. In load-balancer mode they already listen on listen_ip. The address
    is published with this node's data position, now (the backups copy in the post-demote
    notification) and again in the pre-promote notification.
    """
    address = _handoff_address(cfg)
    if address is None:
        cfg.ctx.log.warning(f"no route towards master_ip {cfg.master_ip}: the successor cannot copy this "
                            "node's final data")
        return
    if not _change_handoff_listeners(cfg, address, ovsdb.add_remote):
        return
    _write(cfg.state_file(HANDOFF_FILE), address)
    try:
        publish_position(cfg)  # for the backups' post-demote copy
    except OCFError as err:
        cfg.ctx.log.warning(f"{err.reason}: the backups will look for this node's final data at the promotion only")


def withdraw_handoff(cfg: Config) -> None:
    """Remove the hand-off listener, if any (the successor is promoted, or this node is)."""
    address = _read(cfg.state_file(HANDOFF_FILE))
    if address and _change_handoff_listeners(cfg, address, ovsdb.remove_remote):
        _remove(cfg.state_file(HANDOFF_FILE))


def _handoff_address(cfg: Config) -> str | None:
    if cfg.lb_mode and not cfg.listening_everywhere:
        return cfg.listen_ip
    return ovsdb.source_address(cfg.master_ip)


def _change_handoff_listeners(cfg: Config, address: str,
                              change: Callable[[ovsdb.Database, str, float], None]) -> bool:
    """Add (``ovsdb.add_remote``) or remove (``ovsdb.remove_remote``) the listeners on
    ``address``: none where the databases listen already. False, logged, if a server fails."""
    if cfg.lb_mode or address == cfg.master_ip:
        return True
    try:
        for db in cfg.dbs:
            change(db.server, ovsdb.remote(db.proto, address, db.port, passive=True), _timeout(cfg))
    except (UnixctlError, ovsdb.OvsdbError) as err:
        cfg.ctx.log.warning(f"the hand-off listener on {address}: {err}")
        return False
    return True


def handoff_address(published: str | None) -> str | None:
    """The hand-off address in a published position (its fourth word), if any."""
    words = (published or "").split()
    return words[3] if len(words) > 3 else None


def notify(ctx: Context) -> int:
    """post-demote: the backups copy the demoted node's final data. pre-promote: publish
    this node's data position (and, on the node to be promoted, remember the candidates).
    post-promote: the others replicate from the new promoted node. Notifications always
    succeed; failures are logged."""
    cfg = Config(ctx)
    n = ctx.env.notification()
    try:
        if (n.type, n.operation) == ("pre", "demote"):
            refresh_position(cfg)
        elif (n.type, n.operation) == ("post", "demote"):
            copy_from_demoted(cfg, n)
        elif (n.type, n.operation) == ("pre", "promote"):
            prepare_promotion(cfg, n)
        elif (n.type, n.operation) == ("post", "promote"):
            follow_new_master(cfg, n)
    except OCFError as err:
        ctx.log.warning(f"notify {n.type}-{n.operation}: {err.reason}")
    except (UnixctlError, ovsdb.OvsdbError, OSError) as err:
        ctx.log.warning(f"notify {n.type}-{n.operation}: {err}")
    return Rc.SUCCESS


def refresh_position(cfg: Config) -> None:
    """A backup connected to the promoted node right now has all of its data."""
    state = read_state(cfg)
    if state.roles == {"backup"} and all(s.connection is not None for s in state.servers):
        record_position(cfg, promoted=False)


def copy_from_demoted(cfg: Config, n: Notification) -> None:
    """A backup copies the demoted node's final data at once, while that node still runs:
    when the promoted node is put in standby or stopped, Pacemaker stops it before it
    promotes another (seen in the lab), and the promote would find nobody to copy from."""
    me = cfg.ctx.cluster.node_name()
    if me in n.demote.unames or read_state(cfg).roles != {"backup"}:
        return
    for node in n.demote.unames:
        offer = handoff_address(cfg.ctx.cluster.private_attribute(position_attribute(cfg.ctx), node=node))
        if offer:
            catch_up(cfg, offer)
            return


def prepare_promotion(cfg: Config, n: Notification) -> None:
    """Everyone publishes its data position; the node to be promoted notes the candidates
    it must compare with in promote, once every position is published.

    A connection counts only in a switchover, to the demoted (read-only) node: after a
    failure it may be a dead peer's not yet noticed, and the last monitor's record stands.
    """
    me = cfg.ctx.cluster.node_name()
    if n.demote.unames:
        refresh_position(cfg)
    publish_position(cfg)
    if me in n.promote.unames:
        import json  # here: only the node to be promoted writes the plan

        leaving = set(n.stop.unames) | {me}
        candidates = sorted((set(n.active.unames) | set(n.start.unames)) - leaving)
        _write(cfg.state_file(CANDIDATES_FILE), json.dumps({"candidates": candidates}))


def publish_position(cfg: Config) -> None:
    """This node's data position, for the others' election, with the address it offers its
    final data on when it was just demoted (:func:`offer_handoff`)."""
    published = " ".join(filter(None, (str(read_position(cfg)), _read(cfg.state_file(HANDOFF_FILE)))))
    cfg.ctx.cluster.set_private_attribute(position_attribute(cfg.ctx), published)


def follow_new_master(cfg: Config, n: Notification) -> None:
    me = cfg.ctx.cluster.node_name()
    if me in n.promote.unames:
        return
    state = read_state(cfg)
    if not all(s.status is not None for s in state.servers):
        return
    withdraw_handoff(cfg)
    if cfg.manage_northd and state.northd_running:
        cfg.ovn_ctl_run("--ovn-manage-ovsdb=no", "stop_northd")
    master = n.promote.unames[0] if n.promote.unames else None
    if state.roles == {"backup"}:
        point_backups(cfg, master)


def validate(ctx: Context) -> None:
    """Host checks, and master_ip (declared optional, as upstream, but nothing works without)."""
    p = ctx.params
    if not p["master_ip"]:
        raise ConfigurationError("Parameter master_ip='' is invalid: it is required (the address that reaches "
                                 "the promoted node)")
    if not (os.path.isfile(str(p["ovn_ctl"])) and os.access(str(p["ovn_ctl"]), os.X_OK)):
        raise NotInstalledError(f"Parameter ovn_ctl={p['ovn_ctl']!r}: no executable file there on this host")
    for db in ("nb", "sb"):
        if p[f"{db}_master_protocol"] != "ssl":
            continue
        for suffix in ("privkey", "cert", "cacert"):
            name = f"ovn_{db}_db_{suffix}"
            if not os.path.isfile(str(p[name])):
                raise NotInstalledError(f"Parameter {name}={p[name]!r}: no such file on this host "
                                        f"({db}_master_protocol is ssl)")


def validate_all(ctx: Context) -> int:
    return Rc.SUCCESS


AGENT = Agent(
    METADATA,
    handlers={
        "start": start,
        "stop": stop,
        "monitor": monitor,
        "promote": promote,
        "demote": demote,
        "notify": notify,
        "validate-all": validate_all,
    },
    validate=validate,
    root_actions=frozenset({"start", "stop", "promote", "demote"}),
)
