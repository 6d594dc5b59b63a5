"""The port's actions: start, stop, monitor and validate-all."""

from __future__ import annotations

from ocf_agents.net.link import Link
from ocf_agents.ocf.codes import GenericError, Rc
from ocf_agents.ovs.vsctl import OVSDBUnreachable, Port

from . import shared
from .config import Config, require_bridge


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
    """Add the port (replacing a broken one of the same name), give it its kernel settings,
    bring it up, route its addresses (shared), announce it.

    A start that fails removes the port and its routing again, so that nothing is left
    half-configured.
    """
    bridge, name = cfg.bridge, cfg.interface
    require_bridge(cfg)
    shared.check_table(cfg)
    port = cfg.vsctl.port(name)
    if port is not None:
        if port.bridge not in (bridge, None):
            raise GenericError(f"Port {name} is already on bridge {port.bridge}, not on bridge {bridge}")
        link = cfg.links.show(name)
        if problem(cfg, port, link) is None:
            shared.prepare(cfg)
            shared.follow(cfg, link)
            cfg.ctx.log.info(f"Port {name} is already running on bridge {bridge}")
            return Rc.SUCCESS

    mac = cfg.expected_mac()
    cfg.vsctl.replace_internal_port(bridge, name, mac, cfg.port_columns(), cfg.external_ids(mac))
    try:
        port = cfg.vsctl.port(name)
        if port is None or port.error:
            why = port.error if port is not None else "the port vanished"
            raise GenericError(f"Open vSwitch could not set up interface {name}: {why}")
        shared.prepare(cfg)
        cfg.links.bring_up(name, cfg.bringup)
        link = cfg.links.show(name)
        reason = problem(cfg, port, link)
        if reason is not None:
            raise GenericError(f"Start failed: {reason}")
        shared.follow(cfg, link)
    except Exception:
        shared.undo(cfg)
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
    """Remove the port's routing, bring the link down and delete the port; a port on another
    bridge is not ours (the routing is: it carries our tag)."""
    bridge, name = cfg.bridge, cfg.interface
    shared.release(cfg)
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
    A recurring monitor of a running port then keeps its kernel settings and re-syncs its
    routing to its addresses (shared); a probe changes nothing.
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
    if not cfg.ctx.is_probe:
        shared.keep(cfg, link)
    return Rc.SUCCESS


def validate_all(cfg: Config) -> int:
    """The parameters and programs are checked already; here, that the bridge exists and the
    routing table is free for the port."""
    require_bridge(cfg)
    shared.check_table(cfg)
    return Rc.SUCCESS
