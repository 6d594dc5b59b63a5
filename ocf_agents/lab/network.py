"""The lab network: one bridge in the root namespace (no address), one namespace per node.

Each node gets two veth pairs to the bridge: ``eth0`` with the node's address (Corosync and
every TCP client) and ``ext0`` without one, the uplink of the node's OVS bridge (where the
OVSPort resources put their internal ports). Taking the root-side ends down cuts the node off.
"""

from __future__ import annotations

import os
from pathlib import Path

from .agents import OVN_NOWHERE
from .layout import (BRIDGE, CLIENT, LINK_PREFIX, NODE_LINK, PREFIX, PREFIX_LEN, UPLINK,
                     Client, LabError, Node)
from .proc import run

NETNS_DIR = Path("/run/netns")

NODE_SYSCTLS = {
    # What docs/guide.md recommends for database nodes: the promoted servers listen on the VIP
    # before IPaddr2 adds it (else they bind it only when next woken, up to ~2.5 s later).
    "net.ipv4.ip_nonlocal_bind": "1",
}
# Inside a node three interfaces sit on the lab subnet: eth0, the node's own interface on
# br-lab (layout.HOST_IFACE) and the OVSPort resource's port. docs/ovsport-guide.md's host
# settings, per interface (never "all", which would hide what the agent's arp_isolation does
# for the port): the node's own interfaces answer ARP only for their own addresses and ask
# with them; ext0, an OVS uplink without an address that the userspace datapath leaves in
# the kernel's stack too, answers for none.
OWN_INTERFACE_ARP = {"arp_ignore": "1", "arp_announce": "2"}
LINK_SYSCTLS = {NODE_LINK: OWN_INTERFACE_ARP, UPLINK: {"arp_ignore": "8"}}
# Addresses no node may ever send a packet to: an ``unreachable`` route fails the connection
# inside the node. OVN's agent points a backup without a promoted node at OVN_NOWHERE.
UNREACHABLE = (OVN_NOWHERE,)


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    argv = ["ip", "-netns", netns, *args] if netns else ["ip", *args]
    return run(argv, check=check).stdout


def link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def create_bridge() -> None:
    if link_exists(BRIDGE):
        raise LabError(f"bridge {BRIDGE} already exists: a lab is still up (ocf-agents lab down)")
    ip("link", "add", BRIDGE, "type", "bridge", "forward_delay", "0", "stp_state", "0")
    ip("link", "set", BRIDGE, "up")


def _veth(netns: str, host_end: str, inside: str, address: str | None) -> None:
    ip("link", "add", host_end, "type", "veth", "peer", "name", inside, "netns", netns)
    ip("link", "set", host_end, "master", BRIDGE, "up")
    ip("link", "set", "lo", "up", netns=netns)
    if address:
        ip("addr", "add", f"{address}/{PREFIX_LEN}", "dev", inside, netns=netns)
    ip("link", "set", inside, "up", netns=netns)


def set_client_rto_max(milliseconds: int) -> None:
    """Cap the client namespace's TCP retransmission timeout (``net.ipv4.tcp_rto_max_ms``,
    Linux 6.15 and later), as docs/guide.md recommends for long-lived OVSDB clients."""
    try:
        run(["ip", "netns", "exec", CLIENT.netns, "sysctl", "-q", "-w",
             f"net.ipv4.tcp_rto_max_ms={milliseconds}"])
    except LabError as err:
        raise LabError(f"net.ipv4.tcp_rto_max_ms={milliseconds} in the client namespace: {err} "
                       "(the kernel has it from Linux 6.15)") from None


def create_node_network(node: Node) -> None:
    """A fresh network namespace for the node, plugged into the bridge."""
    ip("netns", "add", node.netns)
    for key, value in NODE_SYSCTLS.items():
        run(["ip", "netns", "exec", node.netns, "sysctl", "-q", "-w", f"{key}={value}"])
    _veth(node.netns, node.host_link, NODE_LINK, node.address)
    _veth(node.netns, node.host_uplink, UPLINK, None)
    for link, settings in LINK_SYSCTLS.items():
        run(["ip", "netns", "exec", node.netns, "sysctl", "-q", "-w",
             *link_sysctls(link, settings)])
    for address in UNREACHABLE:
        ip("route", "add", "unreachable", f"{address}/32", netns=node.netns)
    check_unreachable(node)


def link_sysctls(link: str, settings: dict[str, str]) -> list[str]:
    """``sysctl -w`` arguments setting ``settings`` in net.ipv4.conf.LINK."""
    return [f"net.ipv4.conf.{link}.{key}={value}" for key, value in settings.items()]


def check_unreachable(node: Node) -> None:
    """LabError unless the kernel of ``node`` refuses to route to every UNREACHABLE address."""
    for address in UNREACHABLE:
        route = run(["ip", "-netns", node.netns, "route", "get", address], check=False)
        if route.ok:
            raise LabError(f"{node.name} has a route to {address}, which must stay "
                           f"unreachable: {route.stdout.strip()}")


def create_client_network(client: Client | Node) -> None:
    """A namespace with one veth to the bridge and the address: the client, or a chassis."""
    ip("netns", "add", client.netns)
    _veth(client.netns, client.host_link, NODE_LINK, client.address)


def remove_node_network(node: Node) -> None:
    """Delete the node's links and namespace (an address it held, such as a VIP, goes too).

    The root-side veth ends are deleted first and synchronously: left to the namespace's
    asynchronous teardown they could still exist when the node's network is recreated.
    """
    for link in (node.host_link, node.host_uplink):
        if link_exists(link):
            ip("link", "del", link, check=False)
    if netns_exists(node.netns):
        ip("netns", "del", node.netns, check=False)


def set_cut_off(node: Node, cut: bool) -> None:
    """Isolate (links down) or heal (links up) the node, as a switch port failure would."""
    for link in (node.host_link, node.host_uplink):
        ip("link", "set", link, "down" if cut else "up")


def lab_namespaces() -> list[str]:
    """Every namespace the lab made, found by name (works without the state file)."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(PREFIX))


def namespace_pids(netns: str) -> list[int]:
    out = run(["ip", "netns", "pids", netns], check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def lab_links() -> list[str]:
    """Every link the lab made in the root namespace (bridge and veth ends)."""
    return sorted(n for n in os.listdir("/sys/class/net") if n.startswith(LINK_PREFIX))


def remove_everything() -> None:
    """Delete all lab links and namespaces; processes must already be gone."""
    for link in lab_links():
        if link != BRIDGE:
            ip("link", "del", link, check=False)
    if link_exists(BRIDGE):
        ip("link", "del", BRIDGE, check=False)
    for netns in lab_namespaces():
        ip("netns", "del", netns, check=False)
