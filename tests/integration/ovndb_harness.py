"""Drive the ovndb-servers agent the way Pacemaker does, against real ovsdb-servers.

Each "node" is one loopback address (127.0.10.N) and one set of ovn-ctl directories under a
temporary directory; the agent starts the servers through ovn-ctl as it would on a real node.
master_ip is what a load balancer (listen_on_master_ip_only=no) would forward to: the address
of the node the test has promoted. Promotion scores go to a CIB file (CIB_file) that names
the nodes, so crm_attribute really runs. Observations go through the real tools (ovs-appctl,
ovn-nbctl), not through the agent's own code; only the text of ``ovsdb-server/sync-status``
is read by the one parser of it, ``ocf_agents.ovs.ovsdb.parse_sync_status``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ocf_agents.ovs.ovsdb import OvsdbError, parse_sync_status

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "heartbeat" / "ovndb-servers"
RESOURCE = "ovndb"
NOWHERE = "127.0.10.254"  # loopback, where nothing listens
NB_PORT, SB_PORT = 6641, 6642
OCF_ROOT = "/usr/lib/ocf"
# What the --monitor parents of OVS/OVN daemons rename themselves to.
MONITOR_PARENTS = (b"ovsdb-server: monitoring pid", b"ovn-northd: monitoring pid")


def have_ovn() -> bool:
    return all(shutil.which(p) for p in ("ovsdb-server", "ovs-appctl", "ovn-nbctl", "crm_attribute")) and \
        os.path.exists("/usr/share/ovn/scripts/ovn-ctl")


def make_cib(path: Path, names: list[str]) -> None:
    """An empty CIB with the nodes online, so that transient attributes can be written."""
    env = dict(os.environ, CIB_file=str(path))
    path.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    for i, name in enumerate(names, 1):
        subprocess.run(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'], env=env, check=True)
        subprocess.run(["cibadmin", "-C", "-o", "status", "-X",
                        f'<node_state id="{i}" uname="{name}" in_ccm="true" crmd="online" join="member" '
                        'expected="member"/>'], env=env, check=True)


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str

    @property
    def reason(self) -> str:
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
        return lines[-1] if lines else ""


@dataclass
class Node:
    name: str
    addr: str
    root: Path
    cib: Path
    params: dict[str, str] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # more of the agent's environment

    @property
    def rundir(self) -> Path:
        return self.root / "run"

    def base_params(self) -> dict[str, str]:
        return {
            "ovn_rundir": str(self.rundir),
            "ovn_dbdir": str(self.root / "db"),
            "ovn_logdir": str(self.root / "log"),
            "ovn_sysconfdir": str(self.root / "etc"),
            "listen_on_master_ip_only": "no",
            "listen_ip": self.addr,
            "nowhere_ip": NOWHERE,
            "master_ip": NOWHERE,
            "nb_master_port": str(NB_PORT),
            "sb_master_port": str(SB_PORT),
        }

    def env(self, interval_ms: int = 0, timeout_ms: int = 20000, notify: dict[str, str] | None = None,
            meta: dict[str, str] | None = None, **params: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "OCF_ROOT": OCF_ROOT,
            "OCF_RESOURCE_INSTANCE": f"{RESOURCE}:0",
            "OCF_RESKEY_CRM_meta_on_node": self.name,
            "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
            "OCF_RESKEY_CRM_meta_interval": str(interval_ms),
            "OCF_RESKEY_CRM_meta_notify": "true",
            "OCF_RESKEY_CRM_meta_promotable": "true",
            "OCF_RESKEY_CRM_meta_clone_max": "3",
            "CIB_file": str(self.cib),
            "HA_LOGFACILITY": "none",
            "HA_LOGFILE": str(self.root / "agent.log"),
            "HA_debug": "1",
            **self.environ,
        }
        for key, value in {**self.base_params(), **self.params, **params}.items():
            env[f"OCF_RESKEY_{key}"] = value
        for key, value in (notify or {}).items():
            env[f"OCF_RESKEY_CRM_meta_notify_{key}"] = value
        for key, value in (meta or {}).items():
            env[f"OCF_RESKEY_CRM_meta_{key}"] = value
        return env

    def run(self, action: str, timeout: float = 60, **kw) -> Result:
        proc = subprocess.run([str(AGENT), action], env=self.env(**kw), capture_output=True, text=True,
                              timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    # -- observation through the real tools -----------------------------------------------
    def ctl(self, db: str) -> str:
        return str(self.rundir / f"ovn{db}_db.ctl")

    def appctl(self, db: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ovs-appctl", "-t", self.ctl(db), *args], capture_output=True, text=True, timeout=10)

    def role(self, db: str) -> str:
        out = self.appctl(db, "ovsdb-server/sync-status")
        if out.returncode != 0:
            return "down"
        try:
            return parse_sync_status(out.stdout).role
        except OvsdbError:
            return "unknown"

    def roles(self) -> tuple[str, str]:
        return self.role("nb"), self.role("sb")

    def nbctl(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["ovn-nbctl", "--no-leader-only", f"--db=unix:{self.rundir}/ovnnb_db.sock", *args],
                              capture_output=True, text=True, timeout=10)
        if check and proc.returncode != 0:
            raise AssertionError(f"ovn-nbctl {args}: {proc.stderr}")
        return proc.stdout.strip()

    def sbctl(self, *args: str) -> str:
        return subprocess.run(["ovn-sbctl", "--no-leader-only", f"--db=unix:{self.rundir}/ovnsb_db.sock", *args],
                              capture_output=True, text=True, timeout=10, check=True).stdout.strip()

    def switches(self) -> set[str]:
        return set(self.nbctl("--bare", "--columns=name", "list", "Logical_Switch").split())

    def pid(self, db: str) -> int | None:
        try:
            return int((self.rundir / f"ovn{db}_db.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def score(self) -> str | None:
        proc = subprocess.run(["crm_attribute", f"--promotion={RESOURCE}", "-N", self.name, "-G", "-q"],
                              env=dict(os.environ, CIB_file=str(self.cib)), capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def processes(self) -> list[int]:
        """Our node's processes: those whose command line names its directory, and their
        ovsdb-server --monitor parents (whose command line was rewritten)."""
        mine = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if str(self.root).encode() in cmdline:
                mine.append(int(entry))
        parents = []
        for pid in mine:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
                if Path(f"/proc/{ppid}/cmdline").read_bytes().startswith(MONITOR_PARENTS):
                    parents.append(ppid)
            except (OSError, ValueError):
                continue
        return parents + mine

    def kill_all(self) -> None:
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Lab:
    """Up to ten nodes; every process is killed and every directory removed at the end."""

    def __init__(self, count: int) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="ocfa-ovndb-"))
        self.cib = self.tmp / "cib.xml"
        names = [f"node{i}" for i in range(1, count + 1)]
        make_cib(self.cib, names)
        self.nodes = [Node(name, f"127.0.10.{i}", self.tmp / name, self.cib) for i, name in enumerate(names, 1)]

    def close(self) -> None:
        for node in self.nodes:
            node.kill_all()
        deadline = time.monotonic() + 10
        while any(n.processes() for n in self.nodes) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- transitions as Pacemaker runs them, with their notify variables -------------------
    @staticmethod
    def notify_vars(kind: str, op: str, *, promote=(), demote=(), start=(), stop=(), active=(), promoted=()):
        def words(nodes):
            return " ".join(n.name for n in nodes)

        def rsc(nodes):
            return " ".join(f"{RESOURCE}:{i}" for i, _ in enumerate(nodes))

        lists = {"promote": promote, "demote": demote, "start": start, "stop": stop, "active": active,
                 "promoted": promoted, "master": promoted}
        env = {"type": kind, "operation": op}
        for name, nodes in lists.items():
            env[f"{name}_uname"] = words(nodes)
            env[f"{name}_resource"] = rsc(nodes)
        return env

    def promote(self, new, others, old=None, stop_old=False, later=False) -> Result:
        """demote old (if any), post-demote notify, stop old (``stop_old``: a standby of the
        promoted node, which Pacemaker stops before promoting another), then pre-promote
        notify, promote, post-promote notify; ``later``: the promotion in a transition of its
        own after the demote's, as Pacemaker usually runs a move (the demote's score change
        aborts the first), so that no demote is in its notifications.

        As Pacemaker does, the demote and promote actions get the transition's notify
        variables too (it adds them to a clone's start, stop, promote and demote)."""
        alive = [new, *others] + ([old] if old else [])
        master_ip = new.addr
        if old is not None:
            pre_demote = self.notify_vars("pre", "demote", demote=[old], promote=[new], active=alive,
                                          promoted=[old])
            for node in alive:
                assert node.run("notify", notify=pre_demote, master_ip=old.addr).rc == 0
            res = old.run("demote", notify=pre_demote, master_ip=old.addr)
            assert res.rc == 0, res
            post_demote = self.notify_vars("post", "demote", demote=[old], promote=[new], active=alive,
                                           promoted=[old])
            for node in alive:
                assert node.run("notify", notify=post_demote, master_ip=old.addr).rc == 0
            if stop_old:
                assert old.run("stop").rc == 0
                alive.remove(old)
        switchover = old is not None and not stop_old and not later  # else an earlier transition's
        pre = self.notify_vars("pre", "promote", promote=[new], active=alive, demote=[old] if switchover else [])
        for node in alive:
            assert node.run("notify", notify=pre, master_ip=master_ip).rc == 0
        res = new.run("promote", notify=pre, master_ip=master_ip)
        if res.rc != 0:
            return res
        post = self.notify_vars("post", "promote", promote=[new], active=alive, promoted=[new])
        for node in alive:
            assert node.run("notify", notify=post, master_ip=master_ip).rc == 0
        return res


def wait_for(what: str, check, limit: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
