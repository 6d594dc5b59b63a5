"""The lab's chassis: hypervisors running ovn-controller against the southbound VIP.

A real deployment's databases serve ovn-northd and every hypervisor's ovn-controller; a
chassis here is that hypervisor: a lab machine booted by the same INIT as a node (its own
network, mount, UTS and PID namespaces, a private /run, a "disk" under /run/ocf-agents-lab),
but with no Corosync and no Pacemaker. Its INIT starts ``ovsdb-server`` (its own conf.db),
``ovs-vswitchd`` with the userspace datapath, creates the integration bridge ``br-int``
(``datapath_type=netdev``, before ovn-controller would create a kernel one), and starts
``ovn-controller``, registered through ``external_ids`` as OVN's integration guide says:
``system-id``, ``ovn-remote`` (the SB VIP), ``ovn-encap-type=geneve`` and ``ovn-encap-ip``
(the chassis's own lab address: tunnels stay on the lab network), ``ovn-bridge``.

Until the drill's bring-up has promoted a database node there is nobody behind the VIP;
ovn-controller keeps trying to connect, as on a real hypervisor that boots before the
databases.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import network, nodes
from .layout import LINK_PREFIX, OVNDB_VIP, SUBNET_PREFIX, Node

CHASSIS_BASE = 30  # chassis N has the address 10.99.0.(30+N): nodes .1-.3, VIPs .10/.20
MAX_CHASSIS = 9
DEFAULT_CHASSIS = 2
INTEGRATION_BRIDGE = "br-int"
SB_PORT = 6642
ENCAP = "geneve"
# What a chassis keeps on its disk (nodes.DISK without Corosync's and Pacemaker's).
DISK = {sub: nodes.DISK[sub] for sub in (
    "etc-openvswitch", "openvswitch", "log-openvswitch", "etc-ovn", "ovn", "log-ovn")}
OVN_CONTROLLER_PID = "/run/ovn/ovn-controller.pid"


@dataclass(frozen=True)
class Chassis(Node):
    """A hypervisor: named ``chassisN`` (host name, netns ``ocfa-lab-chassisN``, OVN's
    ``system-id``), otherwise laid out as a node (directory, INIT's PID file and log)."""

    @property
    def name(self) -> str:
        return f"chassis{self.index}"

    @property
    def address(self) -> str:
        return f"{SUBNET_PREFIX}{CHASSIS_BASE + self.index}"

    @property
    def host_link(self) -> str:
        """Root-namespace end of its eth0 (``ocfalab-chassisN`` would pass IFNAMSIZ)."""
        return f"{LINK_PREFIX}-ch{self.index}"


def all_chassis(count: int) -> list[Chassis]:
    return [Chassis(i) for i in range(1, count + 1)]


def sb_remote() -> str:
    return f"tcp:{OVNDB_VIP}:{SB_PORT}"


def external_ids(chassis: Chassis) -> dict[str, str]:
    """The Open_vSwitch record's external_ids that make ovn-controller a chassis."""
    return {
        "system-id": chassis.name,
        "ovn-remote": sb_remote(),
        "ovn-encap-type": ENCAP,
        "ovn-encap-ip": chassis.address,
        "ovn-bridge": INTEGRATION_BRIDGE,
    }


def boot_plan(chassis: Chassis) -> dict:
    """INIT's plan for a chassis: Open vSwitch as on a node, then br-int and ovn-controller."""
    ids = [f"external_ids:{key}={value}" for key, value in external_ids(chassis).items()]
    return nodes.machine_plan(chassis, DISK, [
        *nodes.ovs_boot_steps(),
        ["run", ["ovs-vsctl", "--timeout=20", "set", "Open_vSwitch", ".", *ids,
                 "--", "--may-exist", "add-br", INTEGRATION_BRIDGE,
                 "--", "set", "bridge", INTEGRATION_BRIDGE, "datapath_type=netdev"]],
        ["spawn", ["ovn-controller", nodes.OVSDB_SOCK, f"--pidfile={OVN_CONTROLLER_PID}",
                   "--log-file=/var/log/ovn/ovn-controller.log", "-vconsole:off"]],
    ])


def start(chassis: Chassis) -> int:
    """Create the chassis's network (one veth to the lab bridge) and boot it; returns INIT's
    PID. Its disk must exist (``make``)."""
    if not network.netns_exists(chassis.netns):
        network.create_client_network(chassis)
    return nodes.boot(chassis, boot_plan(chassis))


def make(chassis: Chassis) -> None:
    """First boot: the chassis's disk, then the chassis itself (lab up only)."""
    nodes.make_ovs_disk(chassis, DISK)
    start(chassis)


def status_line(chassis: Chassis) -> str:
    pid = nodes.init_pid(chassis)
    return (f"{chassis.name:9} {chassis.address:12} "
            f"{'running (INIT pid %d)' % pid if pid else 'down'}")
