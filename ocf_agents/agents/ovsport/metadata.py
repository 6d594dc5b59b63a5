"""OVSPort's parameters: their meta-data and the checks that hold on every host."""

from __future__ import annotations

from ocf_agents import __version__
from ocf_agents.net.names import check_ifname, check_mac
from ocf_agents.net.policy import PROTOCOL
from ocf_agents.net.tables import check_table
from ocf_agents.ocf.metadata import Action, MetaData, Parameter

VLAN_MODES = ("access", "trunk", "native-tagged", "native-untagged", "dot1q-tunnel")
BRINGUP_METHODS = ("ip", "ifupdown")
IFACE_STATUSES = ("active", "inactive")
MAX_VLAN = 4095
MAIN_RULE_PRIORITY = 32766  # the kernel's "from all lookup main": the port's rules come before it


# -- parameter validators: each raises ValueError saying why a value is wrong everywhere --
def one_of(choices: tuple[str, ...]):
    def check(value: str) -> None:
        if value not in choices:
            raise ValueError(f"it must be one of {', '.join(choices)}")

    return check


def check_tag(value: int) -> None:
    if not 0 <= value <= MAX_VLAN:
        raise ValueError(f"a VLAN tag is between 0 and {MAX_VLAN}")


def check_text(value: str) -> None:
    """external_ids values: any text on one line (it is quoted for ovs-vsctl)."""
    if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("it must be non-blank text without control characters")


def check_ovsdb(value: str) -> None:
    method, _, rest = value.partition(":")
    if method not in ("unix", "tcp", "ssl") or not rest or any(c.isspace() for c in value):
        raise ValueError("it is not an OVSDB connection method (unix:FILE, tcp:IP:PORT or ssl:IP:PORT)")


def check_rule_priority(value: int) -> None:
    """0 is the local table's rule, and a rule after main's would never be reached."""
    if not 0 < value < MAIN_RULE_PRIORITY:
        raise ValueError(f"it must be between 1 and {MAIN_RULE_PRIORITY - 1}, before the main table's rule")


METADATA = MetaData(
    name="OVSPort",
    version=__version__,
    shortdesc="Open vSwitch internal port that keeps its MAC address across nodes",
    longdesc=(
        "Manages an Open vSwitch internal port (a network interface of this host attached to "
        "an OVS bridge) so that it can move between cluster nodes with the same MAC address. "
        "Combined with IPaddr2 on the port, a fail-over IP address keeps its MAC address, and "
        "no neighbour or switch has to relearn it. start adds the port in one ovs-vsctl "
        "transaction (MAC, VLAN settings and external_ids included), brings the link up with "
        "ip (or ifup) and announces the MAC address; stop brings it down and deletes the "
        "port; monitor checks that the port is on the bridge, its interface exists, is up and "
        "has the configured MAC address. On a bridge shared with another interface of the host "
        "that has an address in the same subnet, route_table, arp_isolation and "
        "ipv6_autoconf=no make the port's addresses answer and send with the port's MAC "
        "address (all off by default)."
    ),
    parameters=(
        Parameter(
            "bridge",
            "OVS bridge",
            "The Open vSwitch bridge the port is added to. It must exist on every node "
            "(exit 5 where it does not).",
            required=True,
            validate=check_ifname,
        ),
        Parameter(
            "interface",
            "Port and interface name",
            "Name of the OVS port, of its internal interface and of the network device it "
            "becomes (at most 15 bytes: letters, digits, '_', '.', '-').",
            required=True,
            unique=True,
            validate=check_ifname,
        ),
        Parameter(
            "mac",
            "MAC address",
            "The port's MAC address, a unicast address such as 02:00:5e:10:00:01. When "
            "empty, a locally administered unicast address derived from the resource's name "
            "(without a clone's :N) and the interface name, the same on every node: the "
            "first six bytes of SHA-256 of 'RESOURCE\\0INTERFACE', with the multicast bit "
            "cleared and the locally-administered bit set.",
            validate=check_mac,
        ),
        Parameter(
            "tag",
            "VLAN tag",
            "The port's VLAN (the OVS Port tag column, 0-4095): with vlan_mode access (the "
            "default when only a tag is given) the port is an access port on that VLAN. "
            "Empty: no tag.",
            type="integer",
            validate=check_tag,
        ),
        Parameter(
            "vlan_mode",
            "VLAN mode",
            "The OVS Port vlan_mode column: access, trunk, native-tagged, native-untagged or "
            "dot1q-tunnel. Empty: Open vSwitch's default (access with a tag, trunk without).",
            validate=one_of(VLAN_MODES),
        ),
        Parameter(
            "iface_id",
            "external_ids:iface-id",
            "Written to the Interface's external_ids:iface-id, the identifier a controller "
            "(for example the OVN logical switch port name) follows the port by.",
            validate=check_text,
        ),
        Parameter(
            "attached_mac",
            "external_ids:attached-mac",
            "Written to the Interface's external_ids:attached-mac. Empty: the port's own MAC "
            "address, which is what is attached to an internal port.",
            validate=check_mac,
        ),
        Parameter(
            "vm_id",
            "external_ids:vm-id",
            "Written to the Interface's external_ids:vm-id when given: the identifier of the "
            "machine or service the port belongs to.",
            validate=check_text,
        ),
        Parameter(
            "iface_status",
            "external_ids:iface-status",
            "Written to the Interface's external_ids:iface-status: active (the default: the "
            "port exists only where the resource runs) or inactive.",
            default="active",
            validate=one_of(IFACE_STATUSES),
        ),
        Parameter(
            "bringup",
            "How the link is brought up",
            "ip: 'ip link set dev INTERFACE up' and down (no ifupdown needed). ifupdown: "
            "'ifup INTERFACE' and 'ifdown INTERFACE', for interfaces whose addresses are kept "
            "in /etc/network/interfaces.",
            default="ip",
            validate=one_of(BRINGUP_METHODS),
        ),
        Parameter(
            "announce",
            "Announce the MAC address after start",
            "After start, send a RARP-style announcement from the port's MAC address (as "
            "hypervisors do after a migration) so that switches update their forwarding "
            "tables, a gratuitous ARP for each IPv4 address and an unsolicited neighbour "
            "advertisement for each IPv6 address already on the port.",
            type="boolean",
            default="yes",
        ),
        Parameter(
            "ovsdb",
            "OVS database",
            "The database ovs-vsctl talks to (its --db option), for example "
            "unix:/run/openvswitch/db.sock. Empty: ovs-vsctl's default, which honours "
            "OVS_RUNDIR.",
            validate=check_ovsdb,
        ),
        Parameter(
            "route_table",
            "Routing table for the port's addresses",
            "Source-based routing for the addresses on the port, for a bridge where another "
            "interface of this host has an address in the same subnet (which the main table may "
            "prefer). Empty (the default): none. A table number (1-4294967295 except 253-255) or "
            "a name defined in rt_tables (/etc/iproute2/rt_tables or rt_tables.d/*.conf) on "
            "every node; no rule or route of anyone else may use the table (start and "
            "validate-all exit 2 when one does, 5 when no rt_tables file here defines the name). "
            "For each address of scope global on the port: a rule 'from ADDRESS lookup TABLE "
            "priority rule_priority'. In the table: each network the port is on (its addresses' "
            "subnets, and a subnet of the main table that holds one of them) through the port, "
            "and each single-path route of the main table whose gateway the port reaches (in one "
            "of those networks, or a link-local gateway of an interface on one of them) through "
            "the port, with the same metric. The addresses come from IPaddr2, after start: start "
            "adds the rules for the addresses already on the port (none, in a group), and every "
            "recurring monitor re-syncs the rules and the table to the addresses then on the "
            "port and to the main table. An address IPaddr2 adds is routed from the first "
            "monitor after it, at most one monitor interval later; a removed address loses its "
            "rule. A rule or route of the port's that was deleted is put back by the next "
            "monitor. The monitor logs every change and answers 0, or 1 when ip refuses a "
            "change; a probe changes nothing. Every rule and route added carries protocol "
            f"{PROTOCOL} and the table number: stop deletes those and nothing else, and the next "
            "start or stop deletes those a crashed start left.",
            unique=True,
            validate=check_table,
        ),
        Parameter(
            "rule_priority",
            "Priority of the route_table rules",
            "The priority (ip rule's preference) of the rules route_table adds, between 1 and "
            f"{MAIN_RULE_PRIORITY - 1}, so that they come before the main table's rule "
            f"({MAIN_RULE_PRIORITY}). Used only with route_table.",
            type="integer",
            default=str(MAIN_RULE_PRIORITY - 1),
            validate=check_rule_priority,
        ),
        Parameter(
            "arp_isolation",
            "ARP only for the port's own addresses",
            "yes: on the port, arp_ignore=1 (answer ARP only for an address configured on the "
            "port) and arp_announce=2 (ask with the port's own address as the sender), in "
            "net.ipv4.conf.INTERFACE; not arp_filter, which would keep the port from answering "
            "for a new address until the monitor that routes it. Set "
            "on start before the link comes up; a recurring monitor puts back one changed "
            "since (with a warning). They go with the device on stop. They keep the port from "
            "answering for the host's other addresses. The other interfaces in the port's "
            "subnet must neither answer for the port's addresses nor ask with them: that takes "
            "arp_ignore=1 (or arp_filter=1, with route_table) and arp_announce=2 on them, host "
            "settings the agent does not change; it logs a warning when it routes an address "
            "of the port in a subnet where another interface answers ARP for any address.",
            type="boolean",
            default="no",
        ),
        Parameter(
            "ipv6_autoconf",
            "IPv6 router advertisements and autoconfiguration on the port",
            "no: accept_ra=0 and autoconf=0 in net.ipv6.conf.INTERFACE, so that the port takes "
            "no address, default route or prefix route from router advertisements (those would "
            "not move with it, and would route the host's own traffic through it). Set on start "
            "before the link comes up; a recurring monitor puts back one changed since (with a "
            "warning). yes (the default): the port keeps the host's defaults for new interfaces "
            "(net.ipv6.conf.default).",
            type="boolean",
            default="yes",
        ),
    ),
    actions=(
        Action("start", timeout=20),
        Action("stop", timeout=20),
        Action("monitor", timeout=20, interval=10),
        Action("validate-all", timeout=20),
        Action("meta-data", timeout=5),
    ),
)
