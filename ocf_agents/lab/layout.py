"""Where the lab's pieces live: names, addresses, directories and the state file.

Everything the lab creates is named from here, so that ``lab down`` can find all of it again
(also when the state file is gone): namespaces ``ocfa-lab-*``, links ``ocfalab*``, the bridge
``ocfalab0`` and the directory ``/run/ocf-agents-lab``. The lab's subnet 10.99.0.0/24 exists
only inside its namespaces; the bridge in the root namespace has no address.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

PREFIX = "ocfa-lab-"  # network namespaces
LINK_PREFIX = "ocfalab"  # every link the lab makes in the root namespace starts with this
BRIDGE = "ocfalab0"
SUBNET_PREFIX = "10.99.0."
PREFIX_LEN = 24
LAB_DIR = Path("/run/ocf-agents-lab")
STATE_FILE = LAB_DIR / "state.json"
# Where the drill writes the details of its summary: not under LAB_DIR, which `lab down` removes.
REPORT_DIR = "/var/tmp/ocf-agents"

# Addresses the drill and the tests use on the lab network (nodes are .1 to .3).
OVNDB_VIP = SUBNET_PREFIX + "10"
PORT_VIP = SUBNET_PREFIX + "20"
NOWHERE = SUBNET_PREFIX + "254"  # nobody answers there: a fresh backup "replicates" from it
CLIENT_ADDRESS = SUBNET_PREFIX + "100"

# Inside each node: the OVS bridge the OVSPort resources go on, and its uplink to the lab
# network (a second veth, without an address, so corosync traffic never crosses OVS).
OVS_BRIDGE = "br-lab"
NODE_LINK = "eth0"
UPLINK = "ext0"
# The shared-bridge case of docs/ovsport-guide.md: each node also has an interface of its own
# on br-lab with an address in the lab subnet (.41 to .43), so the OVSPort resource routes its
# address through a table of its own (PORT_TABLE) and isolates its ARP.
HOST_IFACE = "labhost0"
HOST_ADDRESS_BASE = 40
HOST_ROUTE_METRIC = "100"  # after eth0's route to the subnet: the node's own traffic uses eth0
PORT_TABLE = "4242"

MIN_NODES, MAX_NODES = 2, 3


@dataclass(frozen=True)
class Node:
    """One lab node: its name is its host name and its Pacemaker node name."""

    index: int

    @property
    def name(self) -> str:
        return f"node{self.index}"

    @property
    def netns(self) -> str:
        return PREFIX + self.name

    @property
    def address(self) -> str:
        return f"{SUBNET_PREFIX}{self.index}"

    @property
    def host_iface_address(self) -> str:
        """The address of the node's own interface on br-lab (HOST_IFACE)."""
        return f"{SUBNET_PREFIX}{HOST_ADDRESS_BASE + self.index}"

    @property
    def host_link(self) -> str:
        """Root-namespace end of the node's eth0 (down = the node is cut off)."""
        return f"{LINK_PREFIX}-{self.name}"

    @property
    def host_uplink(self) -> str:
        """Root-namespace end of the node's OVS uplink."""
        return f"{LINK_PREFIX}x-{self.name}"

    @property
    def dir(self) -> Path:
        """The node's "disk": bound over its /var/lib/pacemaker, /etc/corosync, ..."""
        return LAB_DIR / self.name

    @property
    def init_log(self) -> Path:
        return self.dir / "init.log"

    @property
    def init_pid_file(self) -> Path:
        return self.dir / "init.pid"


@dataclass(frozen=True)
class Client:
    """A plain network namespace on the lab network, where the drill's clients run."""

    name: str = "client"
    address: str = CLIENT_ADDRESS

    @property
    def netns(self) -> str:
        return PREFIX + self.name

    @property
    def host_link(self) -> str:
        return f"{LINK_PREFIX}-{self.name}"


CLIENT = Client()


def nodes(count: int) -> list[Node]:
    return [Node(i) for i in range(1, count + 1)]


@dataclass
class State:
    """What ``lab up`` made, for the other sub-commands (kept in STATE_FILE)."""

    node_count: int
    provider: str  # the OCF provider the nodes run our agents from
    agent: str = "ours"  # what runs the database role: ours, ovn or stateful (agents.py)
    chassis_count: int = 0  # hypervisors running ovn-controller (chassis.py)

    @property
    def nodes(self) -> list[Node]:
        return nodes(self.node_count)

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join(n.name for n in self.nodes)
        raise LabError(f"no node {name!r} in the lab (nodes: {known})")

    def save(self) -> None:
        make_lab_dir()
        tmp = STATE_FILE.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(self.__dict__, out)
        tmp.replace(STATE_FILE)

    @classmethod
    def load(cls) -> State:
        try:
            return cls(**json.loads(STATE_FILE.read_text()))
        except FileNotFoundError:
            raise LabError("no lab is up (run: ocf-agents lab up)") from None


class LabError(Exception):
    """Something the operator must hear about in one line (exit status 1, no traceback)."""


def make_lab_dir() -> None:
    LAB_DIR.mkdir(mode=0o700, exist_ok=True)
    os.chmod(LAB_DIR, 0o700)
