"""What the parameters mean for this node: built once per call (the dispatcher's ``configure``)
and handed to every action, with the host checks that make a value wrong here only."""

from __future__ import annotations

import os

from ocf_agents.net import route
from ocf_agents.ocf.codes import ConfigurationError, NotInstalledError
from ocf_agents.ocf.record import Record
from ocf_agents.ovs import ovsdb

from .files import NodeFile, NodeFiles

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.agent import Context

SSL_FILES = ("privkey", "cert", "cacert")  # ovn_<db>_db_<suffix>, in the order Db keeps them


class Db(Record):
    """One database with its parameters: port, protocol and SSL files."""

    database: ovsdb.Database
    port: int
    proto: str
    ssl_files: tuple[str, str, str]  # private key, certificate, CA certificate

    @property
    def title(self) -> str:
        return self.database.title

    @property
    def key(self) -> str:
        return self.database.key


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
        # Clients reach the promoted node through master_ip only when the servers listen there.
        self.reset_clients = bool(p["reset_clients"]) and not self.lb_mode
        # master_ip held by the promoted instance itself, on this interface with this prefix (held_ip.py)
        self.hold_master_ip = bool(p["hold_master_ip"])
        self.master_ip_nic = p["master_ip_nic"]
        self.master_ip_prefix = p["master_ip_cidr_netmask"]
        self.probe = int(p["inactive_probe_interval"])
        self.probe_to_promoted = int(p["inactive_probe_interval_to_master"])
        self.rundir = str(p["ovn_rundir"])
        self.dbdir = str(p["ovn_dbdir"])
        self.logdir = str(p["ovn_logdir"])
        self.sysconfdir = str(p["ovn_sysconfdir"])
        self.files = NodeFiles(self.rundir, self.dbdir)
        self.dbs = tuple(
            Db(database, int(p[f"{database.key}_master_port"]), str(p[f"{database.key}_master_protocol"]),
               tuple(str(p[f"ovn_{database.key}_db_{suffix}"]) for suffix in SSL_FILES))
            for database in ovsdb.databases(self.rundir))

    # -- ovn-ctl ----------------------------------------------------------------------------
    def ovn_ctl_env(self) -> dict[str, str]:
        """ovn-ctl finds every file from these (OVS_RUNDIR: where it looks for ovn-northd)."""
        return {
            "PATH": os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C",
            "OVN_RUNDIR": self.rundir,
            "OVS_RUNDIR": self.rundir,
            "OVN_DBDIR": self.dbdir,
            "OVN_LOGDIR": self.logdir,
            "OVN_SYSCONFDIR": self.sysconfdir,
        }

    def ovn_ctl_run(self, *args: str) -> None:
        """Run ovn-ctl; a failure is logged (what it left behind is read back and judged)."""
        result = self.ctx.runner.run([self.ovn_ctl, *args], env=self.ovn_ctl_env())
        if not result.ok:
            self.ctx.log.warning(f"ovn-ctl {args[-1]}: {result.describe()}")

    def start_northd(self) -> None:
        """ovn-northd started by ovn-ctl (its options are the operator's: /etc/default/ovn-
        central), and running: ovn-ctl returns once the daemon has written its pidfile."""
        self.ovn_ctl_run("--ovn-manage-ovsdb=no", "start_northd")
        self.ctx.budget.wait_for("ovn-northd to run",
                                 lambda: ovsdb.live_pid(self.northd_pidfile, ovsdb.NORTHD_PROGRAM), 0.02)

    @property
    def northd_pidfile(self) -> str:
        return os.path.join(self.rundir, "ovn-northd.pid")

    def stop_northd(self) -> None:
        """ovn-northd stopped by its pid; by ovn-ctl, which escalates, if it outlives a second."""
        if not ovsdb.stop_daemon(self.northd_pidfile, ovsdb.NORTHD_PROGRAM, min(1.0, self.timeout())):
            self.ovn_ctl_run("--ovn-manage-ovsdb=no", "stop_northd")

    def db_file(self, db: Db) -> str:
        """The database file ovn-ctl creates and the server writes every commit to."""
        return os.path.join(self.dbdir, f"ovn{db.key}_db.db")

    def active_conf(self, db: Db) -> NodeFile:
        """The file where ovn-ctl keeps a backup's active server (its promote/demote read it)."""
        return NodeFile(os.path.join(self.sysconfdir, "ovn"), f"ovn{db.key}-active.conf")

    # -- addresses ----------------------------------------------------------------------------
    def reaches_self(self, ip: str, db: Db) -> bool:
        """Would replicating from ``ip`` reach this node's own ``db``? A backup told to sync
        from itself turns itself active (ovsdb-server refuses self-replication)."""
        same = self.listening_everywhere or ip == self.listen_ip
        return same and route.address_is_local(ip)

    @property
    def listening_everywhere(self) -> bool:
        return self.listen_ip in ("0.0.0.0", "::")

    def timeout(self) -> float:
        """One server request's timeout: the usual one, less when the budget is nearly spent."""
        return max(0.1, min(ovsdb.DEFAULT_TIMEOUT, self.ctx.budget.remaining()))

    def patient_timeout(self) -> float:
        """For a request that must succeed while the server may be busy loading a whole copy
        of a large database (it answers nothing meanwhile): a quarter of the budget left."""
        return max(self.timeout(), self.ctx.budget.remaining() / 4)


def check_host(cfg: Config) -> None:
    """Host checks, and master_ip (declared optional, as upstream, but nothing works without)."""
    if not cfg.master_ip:
        raise ConfigurationError("Parameter master_ip='' is invalid: it is required (the address that reaches "
                                 "the promoted node)")
    from .held_ip import check

    check(cfg)
    if not (os.path.isfile(cfg.ovn_ctl) and os.access(cfg.ovn_ctl, os.X_OK)):
        raise NotInstalledError(f"Parameter ovn_ctl={cfg.ovn_ctl!r}: no executable file there on this host")
    for db in cfg.dbs:
        if db.proto != "ssl":
            continue
        for suffix, path in zip(SSL_FILES, db.ssl_files):
            name = f"ovn_{db.key}_db_{suffix}"
            if not os.path.isfile(path):
                raise NotInstalledError(f"Parameter {name}={path!r}: no such file on this host "
                                        f"({db.key}_master_protocol is ssl)")
