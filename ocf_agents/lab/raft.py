"""OVN's clustered (RAFT) databases on the lab's nodes: the yardstick operators hold an
active-backup cluster against (DESIGN.md), on the same nodes, network, chassis and clients.

No Pacemaker resource is involved: the lab is brought up as always (Corosync and Pacemaker run
on the nodes, idle but for the fence device) and this starts, with ``ovn-ctl`` as a three-node
OVN central is started, a clustered northbound and southbound ``ovsdb-server`` on each node
(node1 creates the clusters, the others join it), listening for clients on the node's address,
and an ``ovn-northd`` per node (one holds the southbound lock and works, the others wait).
Clients list the three members (``tcp:A:6641,tcp:B:6641,tcp:C:6641``) as OpenStack's
``ovn_nb_connection`` does, and the chassis's ovn-controllers are pointed at the three
southbound members. Everything runs inside the nodes' namespaces, on their "disks": a crashed
node (``lab crash``) loses its processes and keeps its database files, and ``restart`` starts
its servers again from them; ``lab down`` removes it all.

OVS 3.1 has no command that hands the leadership over (neither has its main branch). What a
leader does by itself before it writes a snapshot, which a busy cluster does every few minutes,
is the planned transfer: it asks another member to start an election at once and steps down
(``raft_notify_snapshot_recommended`` in ovsdb/raft.c). ``cluster/failure-test
transfer-leadership`` runs exactly that on its next main-loop iteration: :func:`transfer`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .chassis import Chassis
from .lab import Lab
from .layout import LabError, Node
from .nodes import node_run
from .proc import wait_until

OVN_CTL = "/usr/share/ovn/scripts/ovn-ctl"
FORMED_TIMEOUT = 60.0
COMMAND_TIMEOUT = 90.0


@dataclass(frozen=True)
class Database:
    """One of OVN's clustered databases: ovn-ctl's name for it, its schema's name, the port
    clients use and the port its members talk RAFT on (ovn-ctl's defaults)."""

    short: str  # "nb" / "sb": ovn-ctl's --db-nb-... options, /run/ovn/ovnnb_db.ctl
    schema: str
    client_port: int
    cluster_port: int

    @property
    def control(self) -> str:
        return f"/run/ovn/ovn{self.short}_db.ctl"

    def remote(self, nodes: list[Node]) -> str:
        """What a client lists: every member, as ``tcp:A:PORT,tcp:B:PORT,...``."""
        return ",".join(f"tcp:{n.address}:{self.client_port}" for n in nodes)


NB = Database("nb", "OVN_Northbound", 6641, 6643)
SB = Database("sb", "OVN_Southbound", 6642, 6644)
DATABASES = (NB, SB)


def ovn_ctl_options(node: Node, seed: Node) -> list[str]:
    """ovn-ctl's options for ``node``'s members of both clusters: its own address, and the
    seed's to join through (the seed creates the clusters; once a member has its database
    file, ovn-ctl starts it from that file and the join address is not used again)."""
    options = []
    for db in DATABASES:
        options += [f"--db-{db.short}-cluster-local-addr={node.address}",
                    f"--db-{db.short}-addr={node.address}",
                    f"--db-{db.short}-create-insecure-remote=yes"]
        if node != seed:
            options.append(f"--db-{db.short}-cluster-remote-addr={seed.address}")
    return options


def northd_argv(nodes: list[Node]) -> list[str]:
    """ovn-northd on the three members of each database, as on a three-node OVN central."""
    return [OVN_CTL, "--ovn-manage-ovsdb=no", f"--ovn-northd-nb-db={NB.remote(nodes)}",
            f"--ovn-northd-sb-db={SB.remote(nodes)}", "start_northd"]


@dataclass(frozen=True)
class MemberStatus:
    """What ``cluster/status`` says of one member."""

    status: str  # "cluster member", "joining cluster", "leaving cluster"...
    role: str  # "leader", "follower", "candidate"
    term: int
    won_ms_ago: int | None = None  # "Last Election won: N ms ago" (a leader's own election)


def parse_status(text: str) -> MemberStatus:
    """The ``Status:``, ``Role:``, ``Term:`` and ``Last Election won:`` lines of
    ``ovs-appctl cluster/status DB``."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key in ("Status", "Role", "Term", "Last Election won"):
            fields[key] = value.strip()
    won = fields.get("Last Election won", "").removesuffix(" ms ago")
    try:
        return MemberStatus(fields["Status"], fields["Role"], int(fields["Term"]),
                            int(won) if won.isdigit() else None)
    except (KeyError, ValueError):
        raise LabError(f"cluster/status without Status, Role and Term: {text.strip()[:200]!r}") from None


class RaftCluster:
    """The clustered databases of a lab that is up."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.seed = lab.nodes[0]

    @property
    def nb_remote(self) -> str:
        return NB.remote(self.lab.nodes)

    def start(self) -> None:
        """Both clusters formed on every node, ovn-northd on each, the chassis pointed at the
        southbound members."""
        for node in self.lab.nodes:
            self.start_node(node)
        self.wait_formed()
        for chassis in self.lab.chassis:
            self.point_chassis(chassis)

    def start_node(self, node: Node) -> None:
        """``node``'s two servers and its ovn-northd (a node that was a member before starts
        again from its database files); returns once ovn-ctl has started them."""
        node_run(node, [OVN_CTL, *ovn_ctl_options(node, self.seed), "start_ovsdb"],
                 timeout=COMMAND_TIMEOUT)
        node_run(node, northd_argv(self.lab.nodes), timeout=COMMAND_TIMEOUT)

    def point_chassis(self, chassis: Chassis) -> None:
        node_run(chassis, ["ovs-vsctl", "--timeout=20", "set", "Open_vSwitch", ".",
                           f"external_ids:ovn-remote={SB.remote(self.lab.nodes)}"])

    def status(self, node: Node, db: Database = NB) -> MemberStatus | None:
        """``node``'s member of ``db`` as it sees itself; None when it does not answer."""
        proc = node_run(node, ["ovs-appctl", "-t", db.control, "cluster/status", db.schema],
                        check=False, timeout=10)
        return parse_status(proc.stdout) if proc.ok else None

    def leader(self, db: Database = NB) -> Node | None:
        """The running node whose member leads ``db`` (None during an election)."""
        for node in self.lab.running():
            status = self.status(node, db)
            if status is not None and status.role == "leader":
                return node
        return None

    def wait_formed(self, members: list[Node] | None = None, timeout: float = FORMED_TIMEOUT) -> Node:
        """Until every member of ``members`` (all nodes) is a cluster member of both databases
        and the northbound one has a leader; that leader."""
        members = members or self.lab.nodes

        def formed() -> Node | None:
            for node in members:
                for db in DATABASES:
                    status = self.status(node, db)
                    if status is None or status.status != "cluster member":
                        return None
            return self.leader()
        return wait_until(f"{', '.join(n.name for n in members)} members of both clusters",
                          formed, timeout, 0.2)

    def transfer(self, leader: Node) -> None:
        """The leader hands the northbound leadership over, as before a snapshot."""
        node_run(leader, ["ovs-appctl", "-t", NB.control, "cluster/failure-test",
                          "transfer-leadership"])

    def wait_leader(self, other_than: Node, timeout: float = FORMED_TIMEOUT) -> tuple[Node, float]:
        """Until a northbound leader other than ``other_than`` is seen; that leader and when
        it won its election (``time.monotonic()``, from its own count of milliseconds since)."""
        def elected() -> tuple[Node, float] | None:
            for node in self.lab.running():
                if node == other_than:
                    continue
                asked = time.monotonic()
                status = self.status(node)
                if status is not None and status.role == "leader":
                    return node, asked - (status.won_ms_ago or 0) / 1000
            return None
        return wait_until(f"a northbound leader other than {other_than.name}", elected, timeout, 0.05)
