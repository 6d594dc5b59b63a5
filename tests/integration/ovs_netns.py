"""A private Open vSwitch inside a network namespace, for the OVSPort tests.

``ovsdb-server`` and ``ovs-vswitchd`` (userspace datapath: bridges with
``datapath_type=netdev``, whose internal ports become tap devices) run inside a namespace
``ocfa-port-<random>`` with their database, sockets and logs in a temporary directory, so the
host's interfaces and any host Open vSwitch are never touched. The agent is pointed at this
OVS with its ``ovsdb`` parameter and runs inside the namespace (``ip netns exec``), where its
``ip`` commands and packet sockets see the tap devices.

Everything started here is stopped by PID and every namespace deleted, even when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "heartbeat" / "OVSPort"
SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
WAIT_LIMIT = 10.0  # seconds: the longest any setup step may take before the fixture gives up
SETTLE = 1.0  # seconds a capture without a frame count goes on after its block, for late frames
STOP_LIMIT = 5.0


def run(argv: Sequence[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command with a bounded time (WAIT_LIMIT unless ``timeout`` says), output as text."""
    kwargs.setdefault("timeout", WAIT_LIMIT)
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, **kwargs)


def wait_until(what: str, check: Callable[[], bool], limit: float = WAIT_LIMIT) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {limit}s")
        time.sleep(0.02)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate one process we started (by its PID), killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_LIMIT)


@dataclass
class Namespace:
    """A network namespace we created; ``exec`` prefixes a command to run inside it."""

    name: str

    @classmethod
    def create(cls, prefix: str = "ocfa-port-") -> Namespace:
        ns = cls(prefix + secrets.token_hex(4))
        run(["ip", "netns", "add", ns.name])
        try:
            ns.run(["ip", "link", "set", "dev", "lo", "up"])
        except BaseException:
            ns.delete()
            raise
        return ns

    def exec(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return run(self.exec(argv), check=check, **kwargs)

    def link(self, name: str) -> dict | None:
        """``ip -j link show`` of one device in the namespace, or None when it is absent."""
        result = self.run(["ip", "-j", "link", "show", "dev", name], check=False)
        return json.loads(result.stdout)[0] if result.returncode == 0 else None

    def delete(self) -> None:
        run(["ip", "netns", "delete", self.name], check=False)


@dataclass
class OVS:
    """ovsdb-server and ovs-vswitchd of one test, inside ``ns``, state under ``root``."""

    ns: Namespace
    root: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def rundir(self) -> Path:
        return self.root / "run"

    @property
    def db(self) -> str:
        """The agent's ``ovsdb`` parameter for this OVS."""
        return f"unix:{self.rundir / 'db.sock'}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "OVS_RUNDIR": str(self.rundir),
            "OVS_DBDIR": str(self.root / "db"),
            "OVS_LOGDIR": str(self.root / "log"),
        }

    def start(self) -> None:
        for sub in ("run", "db", "log"):
            (self.root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        dbfile = self.root / "db" / "conf.db"
        run(["ovsdb-tool", "create", str(dbfile), str(SCHEMA)])
        self._spawn(
            ["ovsdb-server", str(dbfile), f"--remote=p{self.db}",
             f"--unixctl={self.rundir / 'ovsdb-server.ctl'}",
             f"--log-file={self.root / 'log' / 'ovsdb-server.log'}"]
        )
        wait_until("ovsdb-server's socket", (self.rundir / "db.sock").exists)
        self.vsctl("--no-wait", "init")
        self._spawn(
            ["ovs-vswitchd", self.db,
             f"--unixctl={self.rundir / 'ovs-vswitchd.ctl'}",
             f"--log-file={self.root / 'log' / 'ovs-vswitchd.log'}"]
        )
        wait_until("ovs-vswitchd's control socket", (self.rundir / "ovs-vswitchd.ctl").exists)

    def _spawn(self, argv: list[str]) -> None:
        # `ip netns exec` execs the program, so the Popen PID is the daemon's own.
        self.procs.append(
            subprocess.Popen(self.ns.exec(argv), env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        self.procs.clear()

    def vsctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.ns.run(["ovs-vsctl", f"--db={self.db}", "--timeout=10", *args], check=check, env=self.env)

    def add_bridge(self, name: str) -> None:
        self.vsctl("add-br", name, "--", "set", "Bridge", name, "datapath_type=netdev")

    def get(self, table: str, record: str, column: str) -> str:
        return self.vsctl("get", table, record, column).stdout.strip()


# -- the test bed: OVS in one namespace, a peer behind a veth in another --------------------
BRIDGE = "br-ocfa"
OTHER_BRIDGE = "br-other"
UPLINK = "up0"  # the veth end on BRIDGE
PEER_LINK = "peer0"  # the other end, in the peer namespace
RESOURCE = "vip-port"
IFUPDOWN_HOOK_DIRS = ("if-pre-up.d", "if-up.d", "if-down.d", "if-post-down.d")
IFSTATE_DIR = Path("/run/network")
# RARP, ARP and ICMPv6 neighbour advertisements (type 136) from one MAC: not the MLD reports
# and router solicitations a new interface sends on its own.
ANNOUNCEMENT_FILTER = "ether src {mac} and (rarp or arp or (icmp6 and ip6[40] == 136))"


@dataclass
class PortLab:
    """What the OVSPort integration tests share (see :func:`port_lab`)."""

    ns: Namespace
    peer: Namespace
    ovs: OVS
    tmp: Path
    interfaces: list[str] = field(default_factory=list)
    ifstate_existed: bool = field(default_factory=IFSTATE_DIR.exists)  # ifup creates it
    etc_dirs_made: list[Path] = field(default_factory=list)  # by etc_file, for remove_etc_state

    def new_interface(self) -> str:
        """A fresh interface name for one test, so tests never see each other's ports."""
        name = "op" + secrets.token_hex(3)
        self.interfaces.append(name)
        return name

    def agent(self, action: str, instance: str = RESOURCE, interval_ms: int = 10000,
              on: OVS | None = None, **params: str) -> subprocess.CompletedProcess:
        """Run the agent inside the namespace as Pacemaker would (a recurring monitor unless
        ``interval_ms=0``), pointed at this test's OVS with the ``ovsdb`` parameter (or at
        another node's, ``on``, inside that node's namespace)."""
        node = on or self.ovs
        return node.ns.run([str(AGENT), action], check=False, env=self.agent_env(instance, interval_ms, node, **params))

    def agent_env(self, instance: str = RESOURCE, interval_ms: int = 10000, on: OVS | None = None,
                  **params: str) -> dict[str, str]:
        """The environment Pacemaker would give the agent (see :meth:`agent`)."""
        params.setdefault("bridge", BRIDGE)
        params.setdefault("ovsdb", (on or self.ovs).db)
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": instance,
            "OCF_RESKEY_CRM_meta_timeout": "20000",
            "OCF_RESKEY_CRM_meta_interval": str(interval_ms),
            "HA_LOGFACILITY": "none",
            **{f"OCF_RESKEY_{key}": value for key, value in params.items()},
        }

    def ifupdown_config(self, text: str) -> None:
        """/etc/network/interfaces as ifup sees it in the namespace, with empty hook directories."""
        for sub in IFUPDOWN_HOOK_DIRS:
            (Path("/etc/netns") / self.ns.name / "network" / sub).mkdir(parents=True, exist_ok=True)
        self.etc_file("network/interfaces", text)

    def etc_file(self, path: str, text: str) -> None:
        """/etc/PATH as programs see it in the namespace: ``ip netns exec`` mounts each
        directory of /etc/netns/NAME over the one of that name in /etc (removed afterwards by
        :meth:`remove_etc_state`). It binds only over a directory that exists: Debian 13's
        iproute2 keeps its files in /usr/share/iproute2 and has no /etc/iproute2, so an empty
        one is made for the bind and removed afterwards."""
        target = Path("/etc") / Path(path).parts[0]
        if not target.exists():
            target.mkdir(mode=0o755)
            self.etc_dirs_made.append(target)
        file = Path("/etc/netns") / self.ns.name / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)

    def capture(self, count: int, mac: str) -> contextlib.AbstractContextManager[Path]:
        """The first ``count`` announcement-like frames (RARP, ARP, neighbour advertisements)
        sent from ``mac``, as :meth:`sniff` records them."""
        return self.sniff(ANNOUNCEMENT_FILTER.format(mac=mac), count)

    @contextlib.contextmanager
    def sniff(self, expression: str, count: int | None = None) -> Iterator[Path]:
        """tcpdump on the peer's side of the veth, recording into the yielded pcap file the
        frames that match ``expression``; after the block, waits (bounded) for ``count`` of
        them, or without a count for SETTLE seconds, so that late replies are in."""
        pcap = self.tmp / f"capture-{secrets.token_hex(3)}.pcap"
        limit = ["-c", str(count)] if count is not None else []
        proc = subprocess.Popen(
            self.peer.exec(["tcpdump", "-i", PEER_LINK, "-U", "-Z", "root", *limit, "-w", str(pcap), expression]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            # tcpdump writes the file header once its capture is open: from then on it sees all.
            wait_until("tcpdump to listen", lambda: pcap.exists() and pcap.stat().st_size >= 24)
            yield pcap
            try:
                proc.wait(WAIT_LIMIT if count is not None else SETTLE)
            except subprocess.TimeoutExpired:
                pass  # fewer frames than expected: the caller's assertions say which are missing
        finally:
            stop_process(proc)

    @staticmethod
    def decode(pcap: Path) -> str:
        """The captured frames as ``tcpdump -e -vv`` prints them (checksums verified)."""
        return run(["tcpdump", "-r", str(pcap), "-nn", "-e", "-vv"]).stdout

    def remove_etc_state(self) -> None:
        """What ``etc_file`` and ifup left: the namespace's /etc, ifupdown's state files."""
        shutil.rmtree(Path("/etc/netns") / self.ns.name, ignore_errors=True)
        with contextlib.suppress(OSError):
            Path("/etc/netns").rmdir()  # only when no one else keeps files there
        for made in self.etc_dirs_made:
            with contextlib.suppress(OSError):
                made.rmdir()  # only when still empty
        for name in self.interfaces:
            (IFSTATE_DIR / f"ifstate.{name}").unlink(missing_ok=True)
        if not self.ifstate_existed:
            shutil.rmtree(IFSTATE_DIR, ignore_errors=True)


def root_or_skip() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces and run Open vSwitch")
    for program in ("ovsdb-server", "ovs-vswitchd", "ip", "tcpdump"):
        if shutil.which(program) is None:
            pytest.skip(f"needs {program}")


@pytest.fixture(scope="module")
def port_lab() -> Iterator[PortLab]:
    """One OVS (bridges BRIDGE and OTHER_BRIDGE, userspace datapath) in a fresh namespace,
    and a peer namespace connected to BRIDGE by a veth pair; all removed afterwards."""
    root_or_skip()
    with contextlib.ExitStack() as undo:  # runs every cleanup step, in reverse, even on failure
        tmp = Path(tempfile.mkdtemp(prefix="ocfa-port-"))
        undo.callback(shutil.rmtree, tmp, ignore_errors=True)
        ns = Namespace.create()
        undo.callback(ns.delete)
        peer = Namespace.create()
        undo.callback(peer.delete)
        lab = PortLab(ns=ns, peer=peer, ovs=OVS(ns, tmp / "ovs"), tmp=tmp)
        undo.callback(lab.remove_etc_state)
        undo.callback(lab.ovs.stop)
        lab.ovs.start()
        lab.ovs.add_bridge(BRIDGE)
        lab.ovs.add_bridge(OTHER_BRIDGE)
        ns.run(["ip", "link", "add", UPLINK, "type", "veth", "peer", "name", PEER_LINK, "netns", peer.name])
        ns.run(["ip", "link", "set", "dev", UPLINK, "up"])
        peer.run(["ip", "link", "set", "dev", PEER_LINK, "up"])
        lab.ovs.vsctl("add-port", BRIDGE, UPLINK)
        yield lab


# -- a shared bridge: another interface in the port's subnet on every node, a second node -----
OTHER = "other0"  # an internal port on BRIDGE with the node's own address in the port's subnet
NODE_LINK = "n2link"  # a veth between the two nodes' BRIDGEs: one layer-2 network with the peer
PEER_IP, PEER_IP6 = "203.0.113.1", "fd0c:fb::1"
SUBNET_LEN, SUBNET6_LEN = 24, 64
OTHER_IPS = ("203.0.113.2", "203.0.113.3")  # OTHER's address on the first and the second node


@dataclass
class SharedBridge:
    """Two nodes whose BRIDGEs hold OTHER, an interface with the node's address in the peer's
    subnet and the node's default routes (see :func:`shared_bridge`)."""

    lab: PortLab
    nodes: tuple[OVS, OVS]
    peer_link_local: str

    def other_mac(self, node: OVS) -> str:
        return node.ns.link(OTHER)["address"]


def link_local(ns: Namespace, dev: str) -> str | None:
    """``dev``'s IPv6 link-local address once duplicate address detection has passed."""
    shown = json.loads(ns.run(["ip", "-j", "-6", "addr", "show", "dev", dev, "scope", "link"]).stdout)
    usable = [a for a in shown[0]["addr_info"] if "local" in a and not a.get("tentative")]
    return usable[0]["local"] if usable else None


def silence(ns: Namespace, uplink: str) -> None:
    """The userspace datapath reads a bridge's uplink with a packet socket, and the node's own
    stack still gets its frames and answers ARP on it for every address, as a port of the
    kernel datapath never does: an uplink answers none here (arp_ignore=8)."""
    ns.run(["sysctl", "-qw", f"net.ipv4.conf.{uplink}.arp_ignore=8"])


def add_other_interface(node: OVS, address: str, peer_link_local: str) -> None:
    """OTHER on the node's BRIDGE as an operator has it on a shared bridge: the node's address
    in the subnet, its default routes through it, and arp_filter=1 (docs/ovsport-guide.md)."""
    node.vsctl("add-port", BRIDGE, OTHER, "--", "set", "Interface", OTHER, "type=internal")
    node.ns.run(["sysctl", "-qw", f"net.ipv4.conf.{OTHER}.arp_filter=1"])
    node.ns.run(["ip", "addr", "add", f"{address}/{SUBNET_LEN}", "dev", OTHER])
    node.ns.run(["ip", "addr", "add", f"fd0c:fb::{address.rpartition('.')[2]}/{SUBNET6_LEN}", "dev", OTHER, "nodad"])
    node.ns.run(["ip", "link", "set", "dev", OTHER, "up"])
    node.ns.run(["ip", "route", "add", "default", "via", PEER_IP, "dev", OTHER])
    node.ns.run(["ip", "-6", "route", "add", "default", "via", peer_link_local, "dev", OTHER])


@pytest.fixture(scope="module")
def shared_bridge(port_lab: PortLab) -> Iterator[SharedBridge]:
    """port_lab's node, and a second node (its own namespace and OVS) whose BRIDGE is linked to
    the first's, each with OTHER; the peer gets an address in the subnet. Everything added is
    removed afterwards (OTHER's routes go with it), also when a test fails."""
    with contextlib.ExitStack() as undo:
        first = port_lab.ovs
        ns2 = Namespace.create()
        undo.callback(ns2.delete)  # the veth between the nodes goes with it
        second = OVS(ns2, port_lab.tmp / "ovs2")
        undo.callback(second.stop)
        second.start()
        second.add_bridge(BRIDGE)
        first.ns.run(["ip", "link", "add", NODE_LINK, "type", "veth", "peer", "name", NODE_LINK, "netns", ns2.name])
        undo.callback(first.vsctl, "--if-exists", "del-port", BRIDGE, NODE_LINK, check=False)
        for node in (first, second):
            node.ns.run(["ip", "link", "set", "dev", NODE_LINK, "up"])
            node.vsctl("add-port", BRIDGE, NODE_LINK)
        undo.callback(first.ns.run, ["sysctl", "-qw", f"net.ipv4.conf.{UPLINK}.arp_ignore=0"])
        for node, uplink in ((first, UPLINK), (first, NODE_LINK), (second, NODE_LINK)):
            silence(node.ns, uplink)
        peer = port_lab.peer
        undo.callback(peer.run, ["ip", "addr", "flush", "dev", PEER_LINK, "scope", "global"], check=False)
        undo.callback(peer.run, ["ip", "neigh", "flush", "dev", PEER_LINK], check=False)
        peer.run(["ip", "addr", "add", f"{PEER_IP}/{SUBNET_LEN}", "dev", PEER_LINK])
        peer.run(["ip", "addr", "add", f"{PEER_IP6}/{SUBNET6_LEN}", "dev", PEER_LINK, "nodad"])
        wait_until("the peer's link-local address", lambda: link_local(peer, PEER_LINK) is not None)
        link_local_address = link_local(peer, PEER_LINK)
        undo.callback(first.vsctl, "--if-exists", "del-port", BRIDGE, OTHER, check=False)
        for node, address in zip((first, second), OTHER_IPS):
            add_other_interface(node, address, link_local_address)
        yield SharedBridge(port_lab, (first, second), link_local_address)
