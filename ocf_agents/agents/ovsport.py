"""OVSPort: an Open vSwitch internal port that moves between hosts with its MAC address.

Used with IPaddr2, so that a fail-over IP address keeps its MAC address and no neighbour's
ARP cache or switch's forwarding table has to be corrected. The port carries the same MAC on
every node: the ``mac`` parameter, or one derived from the resource's name and the interface.
"""

from __future__ import annotations

import shutil

from ocf_agents import __version__
from ocf_agents.net.link import IFDOWN, IFUP, IP, Link, Links
from ocf_agents.net.names import check_ifname, check_mac, derived_mac, normalize_mac
from ocf_agents.ocf.agent import Agent, Context
from ocf_agents.ocf.codes import ArgsError, GenericError, NotInstalledError, Rc
from ocf_agents.ocf.metadata import Action, MetaData, Parameter
from ocf_agents.ovs.vsctl import VSCTL, OVSDBUnreachable, Port, Vsctl

VLAN_MODES = ("access", "trunk", "native-tagged", "native-untagged", "dot1q-tunnel")
BRINGUP_METHODS = ("ip", "ifupdown")
IFACE_STATUSES = ("active", "inactive")
MAX_VLAN = 4095


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
        "has the configured MAC address."
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
    ),
    actions=(
        Action("start", timeout=20),
        Action("stop", timeout=20),
        Action("monitor", timeout=20, interval=10),
        Action("validate-all", timeout=20),
        Action("meta-data", timeout=5),
    ),
)


# -- the configuration ----------------------------------------------------------------------
class Config:
    """The parameters as the actions use them, built once per call from the checked values
    (``configure``); ``ctx`` gives the log, the runner and the environment."""

    def __init__(self, ctx: Context) -> None:
        p = ctx.params
        self.ctx = ctx
        self.bridge: str = p["bridge"]
        self.interface: str = p["interface"]
        self.mac: str | None = p["mac"]  # as configured: see expected_mac
        self.tag: int | None = p["tag"]
        self.vlan_mode: str | None = p["vlan_mode"]
        self.iface_id: str | None = p["iface_id"]
        self.attached_mac: str | None = p["attached_mac"]
        self.vm_id: str | None = p["vm_id"]
        self.iface_status: str = p["iface_status"]
        self.bringup: str = p["bringup"]
        self.announce: bool = p["announce"]
        self.ovsdb: str | None = p["ovsdb"]
        self.vsctl = Vsctl(ctx.runner, self.ovsdb)
        self.links = Links(ctx.runner)

    def expected_mac(self) -> str:
        """The ``mac`` parameter, or the address every node derives from the same names.

        Asked only by the actions that compare or set the address, so that a missing resource
        name fails those (2), not stop or a probe."""
        if self.mac:
            return normalize_mac(self.mac)
        if not self.ctx.env.resource_name:
            raise ArgsError("Parameter mac is empty and OCF_RESOURCE_INSTANCE is not set: no name to derive the MAC from")
        return derived_mac(self.ctx.env.resource_name, self.interface)

    def port_columns(self) -> dict[str, str | int]:
        columns: dict[str, str | int] = {}
        if self.tag is not None:
            columns["tag"] = self.tag
        if self.vlan_mode:
            columns["vlan_mode"] = self.vlan_mode
        return columns

    def external_ids(self, mac: str) -> dict[str, str]:
        """The integration guide's keys: attached-mac and iface-status always, the others when given."""
        ids = {
            "attached-mac": normalize_mac(self.attached_mac or mac),
            "iface-status": self.iface_status,
        }
        if self.iface_id:
            ids["iface-id"] = self.iface_id
        if self.vm_id:
            ids["vm-id"] = self.vm_id
        return ids


def require_bridge(cfg: Config) -> None:
    """A bridge missing here is this host's problem (5), not the configuration's."""
    if not cfg.vsctl.bridge_exists(cfg.bridge):
        raise NotInstalledError(f"Parameter bridge={cfg.bridge!r}: no such bridge on this host")


# -- the port's state ----------------------------------------------------------------------
def problem(cfg: Config, port: Port, link: Link | None) -> str | None:
    """Why the port, present in OVS, is not running as configured (None: it is)."""
    bridge, name = cfg.bridge, cfg.interface
    if port.bridge != bridge:
        return f"Port {name} is on bridge {port.bridge}, not on bridge {bridge}"
    if link is None:
        detail = f" (Open vSwitch says: {port.error})" if port.error else ""
        return f"Open vSwitch has port {name} on bridge {bridge} but interface {name} does not exist{detail}"
    if not link.up:
        return f"Interface {name} is down"
    mac = cfg.expected_mac()
    if link.mac != mac:
        return f"Interface {name} has MAC address {link.mac}, not the configured {mac}"
    return None


def port_or_unreachable(cfg: Config) -> Port | None:
    """The port as OVS sees it. When OVS's database does not answer, the port can only be
    running if its network device exists: without one, it is stopped here; with one, nobody
    can tell, and the error stands."""
    try:
        return cfg.vsctl.port(cfg.interface)
    except OVSDBUnreachable as err:
        if cfg.links.show(cfg.interface) is None:
            cfg.ctx.log.info(f"{err.reason}; interface {cfg.interface} does not exist, so the port is stopped")
            return None
        raise


# -- actions ---------------------------------------------------------------------------------
def start(cfg: Config) -> int:
    """Add the port (replacing a broken one of the same name), bring it up, announce it.

    A start that fails removes the port again, so that nothing is left half-configured.
    """
    bridge, name = cfg.bridge, cfg.interface
    require_bridge(cfg)
    port = cfg.vsctl.port(name)
    if port is not None:
        if port.bridge not in (bridge, None):
            raise GenericError(f"Port {name} is already on bridge {port.bridge}, not on bridge {bridge}")
        if problem(cfg, port, cfg.links.show(name)) is None:
            cfg.ctx.log.info(f"Port {name} is already running on bridge {bridge}")
            return Rc.SUCCESS

    mac = cfg.expected_mac()
    cfg.vsctl.replace_internal_port(bridge, name, mac, cfg.port_columns(), cfg.external_ids(mac))
    try:
        port = cfg.vsctl.port(name)
        if port is None or port.error:
            why = port.error if port is not None else "the port vanished"
            raise GenericError(f"Open vSwitch could not set up interface {name}: {why}")
        cfg.links.bring_up(name, cfg.bringup)
        link = cfg.links.show(name)
        reason = problem(cfg, port, link)
        if reason is not None:
            raise GenericError(f"Start failed: {reason}")
    except Exception:
        cfg.vsctl.delete_port(bridge, name)
        raise
    if cfg.announce:
        announce(cfg, link)
    cfg.ctx.log.info(f"Port {name} is up on bridge {bridge} with MAC address {mac}")
    return Rc.SUCCESS


def announce(cfg: Config, link: Link) -> None:
    """Best effort: a lost announcement delays learning, it does not make the port fail."""
    from ocf_agents.net.announce import announcements, send  # only start pays for it

    try:
        count = send(link.name, announcements(link.mac, link.ipv4, link.ipv6))
    except OSError as err:
        cfg.ctx.log.warning(f"Could not announce MAC address {link.mac} on {link.name}: {err}")
        return
    cfg.ctx.log.info(f"Announced MAC address {link.mac} on {link.name} ({count} frames)")


def stop(cfg: Config) -> int:
    """Bring the link down and delete the port; a port on another bridge is not ours."""
    bridge, name = cfg.bridge, cfg.interface
    port = port_or_unreachable(cfg)
    if port is None:
        return Rc.SUCCESS
    if port.bridge != bridge:
        cfg.ctx.log.warning(f"Port {name} is on bridge {port.bridge}, not {bridge}: left alone")
        return Rc.SUCCESS
    if not cfg.links.bring_down(name, cfg.bringup):
        cfg.ctx.log.warning(f"Could not bring interface {name} down; deleting the port anyway")
    cfg.vsctl.delete_port(bridge, name)
    cfg.ctx.log.info(f"Port {name} removed from bridge {bridge}")
    return Rc.SUCCESS


def monitor(cfg: Config) -> int:
    """7 when OVS has no such port, 0 when it runs as configured, 1 with the reason otherwise.

    A probe that finds the port on its bridge with its link down says 7: that is what a node
    looks like after a reboot (Open vSwitch keeps its ports in its database, nothing brings
    their links up), and a port that is down carries no traffic, so it is not running here.
    start replaces it. A recurring monitor that finds the link down reports the failure.
    """
    port = port_or_unreachable(cfg)
    if port is None:
        return Rc.NOT_RUNNING
    link = cfg.links.show(cfg.interface)
    if cfg.ctx.is_probe and port.bridge == cfg.bridge and link is not None and not link.up:
        cfg.ctx.log.info(f"Port {cfg.interface} is in Open vSwitch with its link down "
                         "(left from before a reboot?): not running here")
        return Rc.NOT_RUNNING
    reason = problem(cfg, port, link)
    if reason is not None:
        raise GenericError(reason)
    return Rc.SUCCESS


def check_programs(cfg: Config) -> None:
    """What only this host can get wrong before any action: the programs the agent runs."""
    programs = [VSCTL, IP] + ([IFUP, IFDOWN] if cfg.bringup == "ifupdown" else [])
    for program in programs:
        if shutil.which(program) is None:
            raise NotInstalledError(f"Program {program} is not installed on this host")


def validate_all(cfg: Config) -> int:
    """The parameters and programs are checked already; here, that the bridge exists."""
    require_bridge(cfg)
    return Rc.SUCCESS


AGENT = Agent(
    METADATA,
    handlers={"start": start, "stop": stop, "monitor": monitor, "validate-all": validate_all},
    validate=check_programs,
    root_actions=frozenset({"start", "stop"}),
    configure=Config,
)
