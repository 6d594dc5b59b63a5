"""One-shot questions the steps ask, from outside the cluster's own view: what a database
server says of itself, which node holds an address, what the client sees.

Pacemaker's view (crm_mon) says what the cluster believes; these say what is actually there,
which is what a drill must compare it with.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator, Mapping

from ocf_agents.ovs import ovsdb, unixctl

from ..lab import Lab
from ..layout import LAB_DIR, NODE_LINK, OVNDB_VIP, Node
from ..nodes import init_pid
from ..proc import run, wait_until
from ..writer import in_client_netns
from .resources import DBS


def sync_status(lab: Lab, node: Node, db: str) -> ovsdb.SyncStatus | None:
    """``ovsdb-server/sync-status`` of one database server, None if it does not answer
    (stopped, or the node is down)."""
    if init_pid(node) is None:
        return None
    proc = lab.run(node, ["ovs-appctl", "-T", "5", "-t", f"/run/ovn/{db}.ctl",
                          "ovsdb-server/sync-status"], check=False, timeout=10)
    if not proc.ok:
        return None
    try:
        return ovsdb.parse_sync_status(proc.stdout)
    except ovsdb.OvsdbError:
        return None


def replicating(lab: Lab, node: Node) -> bool:
    """Both databases of ``node`` are backups replicating from the promoted node: from its
    own address (our agent: docs/ovndb-monitor-states.md) or from the VIP (OVN's agent)."""
    sources = {OVNDB_VIP} | {other.address for other in lab.nodes if other != node}
    for db in DBS:
        status = sync_status(lab, node, db)
        parsed = ovsdb.parse_remote(status.sync_from or "") if status else None
        if not (status and status.role == "backup" and status.replicating and parsed and parsed[1] in sources):
            return False
    return True


def accepting_writes(lab: Lab, node: Node) -> bool:
    """The northbound server of ``node`` is active (whether clients can reach it or not)."""
    status = sync_status(lab, node, "ovnnb_db")
    return status is not None and status.role == "active"


def server_role(init: int, db: str = "ovnnb_db") -> str:
    """What the server of ``db`` in the node whose INIT is ``init`` says it is: "active",
    "backup", or "stopped" when it does not answer. Its control socket is reached through
    INIT's root (the node's own /run): no process started, so a sampler can ask every 0.1 s."""
    try:
        text = unixctl.call(f"/proc/{init}/root/run/ovn/{db}.ctl", "ovsdb-server/sync-status",
                            timeout=1.0)
        return ovsdb.parse_sync_status(text).role
    except (unixctl.UnixctlError, ovsdb.OvsdbError):
        return "stopped"


def local_addresses(init: int) -> set[str]:
    """The IPv4 addresses of the node whose INIT is ``init``: the host routes of its local
    table (``/proc/PID/net`` is the network namespace of PID), read without starting ``ip``."""
    try:
        lines = Path(f"/proc/{init}/net/fib_trie").read_text().splitlines()
    except OSError:
        return set()
    found, key = set(), ""
    for line in lines:  # "|-- 10.99.0.10", then its routes, among them "/32 host LOCAL"
        words = line.split()
        if words[:1] == ["|--"]:
            key = words[1]
        elif words == ["/32", "host", "LOCAL"]:
            found.add(key)
    return found


def holds_address(node: Node, address: str) -> bool:
    out = run(["ip", "-netns", node.netns, "-4", "-o", "addr", "show"], check=False).stdout
    return f"inet {address}/" in out


def interface_mac(node: Node, interface: str) -> str:
    """The MAC address of ``interface`` in ``node``."""
    shown = json.loads(run(["ip", "-netns", node.netns, "-j", "link", "show", interface]).stdout)
    return shown[0]["address"]


def client_ping(address: str) -> bool:
    return subprocess.run(in_client_netns(["ping", "-c", "1", "-W", "1", address]),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          stdin=subprocess.DEVNULL, timeout=10).returncode == 0


def client_neighbour(address: str) -> str:
    """The MAC the client's neighbour table holds for ``address`` ("" when none)."""
    out = run(in_client_netns(["ip", "neigh", "show", address])).stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else ""


CAPTURE_SETTLE_S = 1.0  # late replies are in by then


@contextlib.contextmanager
def client_capture(expression: str) -> Iterator[Path]:
    """tcpdump on the client's lab link, recording the frames that match ``expression`` into
    the yielded pcap file until the block has ended and late frames are in; the capture is
    stopped whatever happens. The file, in the lab's private directory, is overwritten by the
    next capture and removed by ``lab down``."""
    pcap = LAB_DIR / "client-capture.pcap"
    pcap.unlink(missing_ok=True)  # the last capture's: its header must not pass for this one's
    proc = subprocess.Popen(
        in_client_netns(["tcpdump", "-i", NODE_LINK, "-U", "-Z", "root", "-w", str(pcap),
                         expression]),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # tcpdump writes the file's header once its capture is open: from then on it sees all.
        wait_until("tcpdump to listen in the client namespace",
                   lambda: pcap.exists() and pcap.stat().st_size >= 24, timeout=10)
        yield pcap
        time.sleep(CAPTURE_SETTLE_S)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def address_marks(address: str) -> dict[str, str]:
    """What identifies, in ``tcpdump -e`` lines, the frames answering for ``address`` or
    coming from it: ARP replies for it, ARP requests asking with it, and IPv4 packets from it."""
    return {"ARP reply": f"Reply {address} is-at", "ARP request": f"tell {address},",
            "IPv4": f": {address} > "}


def frame_senders(pcap: Path, marks: Mapping[str, str]) -> dict[str, set[str]]:
    """The source MACs of the captured frames, by kind: those whose ``tcpdump -e`` line
    contains the kind's mark."""
    seen: dict[str, set[str]] = {kind: set() for kind in marks}
    for line in run(["tcpdump", "-r", str(pcap), "-nn", "-e"]).stdout.splitlines():
        for kind, mark in marks.items():
            if mark in line:
                seen[kind].add(line.split()[1])
    return seen


def flush_client_neighbours() -> None:
    """The client forgets every MAC it learnt: its next packet to a node asks again."""
    run(in_client_netns(["ip", "neigh", "flush", "dev", NODE_LINK]))


NORTHD_COMM = "ovn-northd"


def pid_namespace(pid: int) -> str:
    """The PID namespace of ``pid`` ("" when it is gone): a lab machine's processes share
    its INIT's."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def processes_named(comm: str) -> list[int]:
    """Root-namespace PIDs of the live processes whose name is ``comm`` (read from /proc,
    no process spawned: samplers call this every 0.1 s)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            name = Path(f"/proc/{entry}/comm").read_text().strip()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if name == comm and state != "Z":
            found.append(int(entry))
    return found


def northd_pids(lab: Lab) -> dict[str, list[int]]:
    """The ovn-northd processes of each running node that has any (node name -> PIDs in the
    root namespace; the ``--monitor`` parent ovn-ctl starts is named ``monitor``)."""
    by_namespace = {pid_namespace(pid): node for node in lab.running()
                    if (pid := init_pid(node)) is not None}
    found: dict[str, list[int]] = {}
    for pid in processes_named(NORTHD_COMM):
        node = by_namespace.get(pid_namespace(pid))
        if node is not None:
            found.setdefault(node.name, []).append(pid)
    return found
