"""Two OVN database "nodes" for the benchmark, each in its own network namespace.

Why namespaces: OVN's agent listens on ``master_ip`` (or on 0.0.0.0) and replicates from
``master_ip`` on the same port, so two of its nodes cannot share one network stack; and it
points a backup that has no promoted node at the hard-coded 192.0.2.254. Each node here is a
namespace ``ocfa-bench-<pid>-<n>`` whose only links are its own loopback and one end of a veth
pair; the other ends are ports of a bridge in a third namespace, ``ocfa-bench-<pid>-client``,
where the benchmark's writing client runs (a client of the VIP is neither node). The network
is 198.18.30.0/24, from the range RFC 2544 sets aside for benchmarks, node n at .n, the client
at .200; it exists only inside these namespaces: nothing links them to the host's network.
(Loopback addresses cannot stand in for the nodes: our agent rightly takes any 127.0.0.0/8
``master_ip`` for the node itself.) The virtual IP ``master_ip`` = 198.18.30.100 is moved by
the benchmark as IPaddr2 would move it, gratuitous ARPs included, and the nodes may bind it
before it arrives (``net.ipv4.ip_nonlocal_bind=1``, as docs/guide.md recommends). There is no
other route: a connection to 192.0.2.254 fails at once inside a namespace with "Network is
unreachable", so OVN's agent may point a backup there and no packet leaves; our agent is
given ``nowhere_ip`` = 127.0.30.254, the namespace's own loopback, where nothing listens.

Both agents run on the same nodes, with the same ovn-ctl directories, the same servers, the
same CIB file (``CIB_file``, a CIB naming both nodes, so that crm_master and crm_attribute
really run) and the same parameters; ours also gets its directory parameters and nowhere_ip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ocf_agents.ovs.ovsdb import OvsdbError, parse_sync_status

REPO = Path(__file__).resolve().parents[1]
OURS = str(REPO / "heartbeat" / "ovndb-servers")
THEIRS = "/usr/share/ovn/scripts/ovndb-servers.ocf"
AGENTS = {"ours": OURS, "theirs": THEIRS}
OCF_ROOT = "/usr/lib/ocf"
RESOURCE = "ovndb"
SUBNET = "198.18.30"  # RFC 2544's benchmarking range, only inside the bench's namespaces
VIP = f"{SUBNET}.100"
CLIENT_ADDR = f"{SUBNET}.200"
BRIDGE = "benchbr"
SEND_ARP = "/usr/libexec/heartbeat/send_arp"  # what IPaddr2 announces the VIP with
NODE_SYSCTLS = ("net.ipv4.ip_nonlocal_bind=1",)  # docs/guide.md: the servers listen on the VIP at once
NOWHERE = "127.0.30.254"  # the node's own loopback, where nothing listens
NB_PORT, SB_PORT = 6641, 6642
REPL_INFO, UPSTREAM_REPL_SET = "OVN_REPL_INFO", "ovn_ovsdb_master_server"
WORKER = Path(__file__).resolve().parent / "worker.py"
SYSTEM_PYTHON = "/usr/bin/python3"


class BenchError(Exception):
    """The benchmark could not set up or drive its nodes."""


@dataclass
class Timing:
    rc: int | None
    wall: float
    user: float
    sys: float
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Node:
    """One node: a namespace, ovn-ctl directories, and a worker that runs the agents there."""

    def __init__(self, index: int, root: Path, namespace: str, cib: Path) -> None:
        self.index = index
        self.name = f"node{index}"
        self.addr = f"{SUBNET}.{index}"
        self.root = root
        self.namespace = namespace
        self.device = "bench0"
        self.cib = cib
        self.worker: subprocess.Popen | None = None
        self.announcer: subprocess.Popen | None = None
        for sub in ("run", "db", "log", "etc"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    # -- the namespace and its worker ---------------------------------------------------------
    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{self.namespace}", "--", SYSTEM_PYTHON, str(WORKER)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 120.0) -> Timing:
        assert self.worker is not None and self.worker.stdin and self.worker.stdout
        self.worker.stdin.write(json.dumps({"argv": argv, "env": env, "timeout": timeout}) + "\n")
        self.worker.stdin.flush()
        line = self.worker.stdout.readline()
        if not line:
            raise BenchError(f"{self.name}: the worker died")
        return Timing(**json.loads(line))

    def set_vip(self, present: bool) -> None:
        """Add or remove the VIP as IPaddr2 would: an added one is announced in the background
        (5 gratuitous ARPs 200 ms apart, IPaddr2's defaults), so that the client's neighbour
        cache leaves the old node at once."""
        verb = "add" if present else "del"
        if present != self.has_vip():
            _ip("-n", self.namespace, "addr", verb, f"{VIP}/32", "dev", self.device)
            if present:
                self.reap_announcer()
                self.announcer = subprocess.Popen(
                    ["ip", "netns", "exec", self.namespace, SEND_ARP, "-i", "200", "-r", "5", self.device, VIP,
                     "auto", "not_used", "not_used"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def reap_announcer(self) -> None:
        if self.announcer is not None:
            self.announcer.wait(timeout=30)
            self.announcer = None

    def has_vip(self) -> bool:
        out = subprocess.run(["ip", "-n", self.namespace, "-o", "addr", "show", "dev", self.device],
                             capture_output=True, text=True, timeout=30).stdout
        return f" {VIP}/32 " in out

    # -- the agents' environment ----------------------------------------------------------------
    @property
    def rundir(self) -> Path:
        return self.root / "run"

    @property
    def dbdir(self) -> Path:
        return self.root / "db"

    def logfile(self, agent: str) -> Path:
        return self.root / f"{agent}.log"

    def socket(self, db: str) -> str:
        return str(self.rundir / f"ovn{db}_db.sock")

    def control(self, db: str) -> str:
        return str(self.rundir / f"ovn{db}_db.ctl")

    def env(self, agent: str, interval_ms: int = 0, timeout_ms: int = 60000,
            notify: dict[str, str] | None = None) -> dict[str, str]:
        dirs = {"OVN_RUNDIR": str(self.rundir), "OVS_RUNDIR": str(self.rundir), "OVN_DBDIR": str(self.dbdir),
                "OVN_LOGDIR": str(self.root / "log"), "OVN_SYSCONFDIR": str(self.root / "etc")}
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C",
            "OCF_ROOT": OCF_ROOT,
            "OCF_RESOURCE_INSTANCE": f"{RESOURCE}:{self.index - 1}",
            "OCF_RESOURCE_TYPE": "ovndb-servers",
            "OCF_RESKEY_CRM_meta_on_node": self.name,
            "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
            "OCF_RESKEY_CRM_meta_interval": str(interval_ms),
            "OCF_RESKEY_CRM_meta_notify": "true",
            "OCF_RESKEY_CRM_meta_promotable": "true",
            "OCF_RESKEY_CRM_meta_clone_max": "2",
            "OCF_RESKEY_CRM_meta_clone_node_max": "1",
            "OCF_RESKEY_CRM_meta_promoted_max": "1",
            "OCF_RESKEY_CRM_meta_master_max": "1",
            "CIB_file": str(self.cib),
            "HA_LOGFACILITY": "none",
            "HA_LOGFILE": str(self.logfile(agent)),
            "HA_debug": "0",
            "OCF_RESKEY_master_ip": VIP,
            "OCF_RESKEY_nb_master_port": str(NB_PORT),
            "OCF_RESKEY_sb_master_port": str(SB_PORT),
            **dirs,
        }
        if agent == "ours":
            env.update({"OCF_RESKEY_ovn_rundir": dirs["OVN_RUNDIR"], "OCF_RESKEY_ovn_dbdir": dirs["OVN_DBDIR"],
                        "OCF_RESKEY_ovn_logdir": dirs["OVN_LOGDIR"], "OCF_RESKEY_ovn_sysconfdir": dirs["OVN_SYSCONFDIR"],
                        "OCF_RESKEY_nowhere_ip": NOWHERE})
        for key, value in (notify or {}).items():
            env[f"OCF_RESKEY_CRM_meta_notify_{key}"] = value
        return env

    def agent(self, agent: str, action: str, *, interval_ms: int = 0, notify: dict[str, str] | None = None,
              timeout_ms: int = 60000) -> Timing:
        env = self.env(agent, interval_ms, timeout_ms, notify)
        return self.run([AGENTS[agent], action], env, timeout=timeout_ms / 1000 + 5)

    # -- observation through the real tools ------------------------------------------------------
    def sync_state(self, db: str) -> str:
        out = subprocess.run(["ovs-appctl", "-t", self.control(db), "ovsdb-server/sync-status"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            return "down"
        try:
            return parse_sync_status(out.stdout).role
        except OvsdbError:
            return "unknown"


def notify_vars(kind: str, op: str, **lists: list[Node]) -> dict[str, str]:
    """The notify variables Pacemaker gives a promotable clone (both spellings of the roles)."""
    names = ("active", "inactive", "start", "stop", "promote", "demote", "promoted", "unpromoted")
    env = {"type": kind, "operation": op}
    for name in names:
        nodes = lists.get(name, [])
        env[f"{name}_uname"] = " ".join(n.name for n in nodes)
        env[f"{name}_resource"] = " ".join(f"{RESOURCE}:{n.index - 1}" for n in nodes)
    env["master_uname"], env["master_resource"] = env["promoted_uname"], env["promoted_resource"]
    env["slave_uname"], env["slave_resource"] = env["unpromoted_uname"], env["unpromoted_resource"]
    return env


class Pair:
    """node1 and node2, linked; everything they start is killed and removed by ``close``."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="ocfa-bench-"))
        self.cib = self.tmp / "cib.xml"
        prefix = f"ocfa-bench-{os.getpid()}"
        self.nodes = [Node(i, self.tmp / f"node{i}", f"{prefix}-{i}", self.cib) for i in (1, 2)]
        self.client_namespace = f"{prefix}-client"
        try:
            self._make_cib()
            self._make_network()
            for node in self.nodes:
                node.start_worker()
        except BaseException:
            self.close()
            raise

    def _make_cib(self) -> None:
        env = dict(os.environ, CIB_file=str(self.cib))
        empty = subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True, timeout=30)
        self.cib.write_text(empty.stdout)
        self.cib.chmod(0o600)
        for node in self.nodes:
            subprocess.run(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="{node.index}" uname="{node.name}"/>'],
                           env=env, check=True, timeout=30)
            subprocess.run(["cibadmin", "-C", "-o", "status", "-X",
                            f'<node_state id="{node.index}" uname="{node.name}" in_ccm="true" crmd="online" '
                            'join="member" expected="member"/>'], env=env, check=True, timeout=30)

    def _make_network(self) -> None:
        """Each node's veth to a port of the client namespace's bridge; the nodes' sysctls."""
        client = self.client_namespace
        _ip("netns", "add", client)
        _ip("-n", client, "link", "add", BRIDGE, "type", "bridge")
        for node in self.nodes:
            ns, port = node.namespace, f"bench{node.index}"
            _ip("netns", "add", ns)
            _ip("link", "add", node.device, "netns", ns, "type", "veth", "peer", "name", port, "netns", client)
            _ip("-n", client, "link", "set", port, "master", BRIDGE, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{node.addr}/24", "dev", node.device)
            _ip("-n", ns, "link", "set", node.device, "up")
            for setting in NODE_SYSCTLS:
                subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", setting], check=True, timeout=30)
        _ip("-n", client, "link", "set", "lo", "up")
        _ip("-n", client, "addr", "add", f"{CLIENT_ADDR}/24", "dev", BRIDGE)
        _ip("-n", client, "link", "set", BRIDGE, "up")

    @property
    def namespaces(self) -> list[str]:
        return [node.namespace for node in self.nodes] + [self.client_namespace]

    def forget_upstream_repl_info(self) -> None:
        """Delete OVN's agent's copy of the OVN_REPL_INFO property before our agent records
        the promoted node. OVN's agent keeps it in the set ``ovn_ovsdb_master_server``, ours
        in the default set without naming one; with both present, crm_attribute refuses to
        choose and our promote fails (exit 109). A cluster that moves from OVN's agent to ours
        meets the same, so it is a bug of ours, reported; here it would only stop the run."""
        subprocess.run(["crm_attribute", "--type", "crm_config", "--name", REPL_INFO, "-s", UPSTREAM_REPL_SET,
                        "--delete"], env=dict(os.environ, CIB_file=str(self.cib)), capture_output=True, timeout=30)

    def close(self) -> None:
        """Kill every process in our namespaces (workers, agents, servers), then remove them."""
        for node in self.nodes:
            if node.worker is not None and node.worker.stdin:
                node.worker.stdin.close()
        for namespace in self.namespaces:
            if not Path(f"/run/netns/{namespace}").exists():
                continue
            for _ in range(50):
                pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True,
                                      timeout=30).stdout.split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.1)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)
        for node in self.nodes:
            if node.worker is not None:
                node.worker.wait(timeout=10)
            node.reap_announcer()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "Pair":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
