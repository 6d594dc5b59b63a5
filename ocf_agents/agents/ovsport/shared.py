"""A port on a bridge shared with another interface of the host that has an address in the same
subnet: the port's ARP and IPv6 settings (``arp_isolation``, ``ipv6_autoconf``) and the
source-based routing of its addresses (``route_table``).

All three are off by default, and then nothing here reads or changes anything. The settings
belong to the device and go with it on stop; the routing is tagged (:mod:`ocf_agents.net.policy`)
and stop removes exactly it.
"""

from __future__ import annotations

from ocf_agents.net import sysctl
from ocf_agents.net.policy import Rule, connected_networks, sharing
from ocf_agents.net.sysctl import Setting
from ocf_agents.ocf.codes import ArgsError, GenericError, OCFError

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from ocf_agents.net.link import Link
    from ocf_agents.net.policy import Snapshot

    from .config import Config

# arp_ignore=1: answer only for an address configured on the port. arp_announce=2: ask with the
# port's own address as the sender. Not arp_filter=1 (answer only when the reply would leave
# through the port): until the monitor after IPaddr2 routes a new address through the port's
# table, the reply would leave by the main table, and the port would not answer for its own
# address for up to a monitor interval after every fail-over.
ARP_ISOLATION = (Setting("ipv4", "arp_ignore", 1), Setting("ipv4", "arp_announce", 2))
# No address, default route or prefix route from router advertisements: they would not move
# with the port, and would route the host's own traffic through it.
NO_AUTOCONF = (Setting("ipv6", "accept_ra", 0), Setting("ipv6", "autoconf", 0))


def settings(cfg: Config) -> tuple[Setting, ...]:
    return (ARP_ISOLATION if cfg.arp_isolation else ()) + (() if cfg.ipv6_autoconf else NO_AUTOCONF)


def enforce_settings(cfg: Config) -> list[str]:
    """Give the port its settings; what was changed, as "NAME: OLD -> NEW"."""
    try:
        return sysctl.enforce(cfg.interface, settings(cfg))
    except OSError as err:
        raise GenericError(f"Could not set the kernel settings of interface {cfg.interface}: {err}") from None


def prepare(cfg: Config) -> None:
    """start, before the link comes up (no router advertisement is taken in the meantime)."""
    for change in enforce_settings(cfg):
        cfg.ctx.log.info(f"Kernel setting {change}")


def check_table(cfg: Config) -> None:
    """start and validate-all: a table that a rule or route of someone else uses cannot be the
    port's here (2): stop would take routes from under their rule, or theirs would route the
    port's addresses. Left-overs of ours (a start that crashed) are no obstacle: the start
    re-syncs them."""
    if cfg.routing is None:
        return
    foreign = cfg.routing.foreign(cfg.routing.read())
    if foreign:
        raise ArgsError(f"Parameter route_table={cfg.route_table!r}: table {cfg.routing.table} is already "
                        f"used on this host by what OVSPort did not add: {'; '.join(foreign)}")


def follow(cfg: Config, link: Link, snapshot: Snapshot | None = None) -> None:
    """Re-sync the rules and the table to the addresses on the port now, and log each change."""
    if cfg.routing is None:
        return
    if snapshot is None:
        snapshot = cfg.routing.read()
    changes = cfg.routing.sync(link.cidrs, snapshot)
    for verb, item in changes:
        cfg.ctx.log.info(f"Routing of {cfg.interface}: {verb} {item}")
    if any(verb == "added" and isinstance(item, Rule) for verb, item in changes):
        warn_about_arp(cfg, link, snapshot)


def warn_about_arp(cfg: Config, link: Link, snapshot: Snapshot) -> None:
    """The one part the agent cannot do: another interface in the port's subnet that answers
    ARP for every address of the host answers for the port's too, with its own MAC."""
    networks = connected_networks(snapshot.main, [c for c in link.cidrs if ":" not in c])
    for iface, network in sharing(snapshot.main, cfg.interface, networks):
        if sysctl.answers_for_any_address(iface):
            cfg.ctx.log.warning(
                f"Interface {iface} is on {network} too and answers ARP for every address of this "
                f"host, {cfg.interface}'s included, with its own MAC address: set "
                f"net.ipv4.conf.{iface}.arp_filter=1 (or arp_ignore=1) on this host"
            )


def keep(cfg: Config, link: Link) -> None:
    """A recurring monitor: the settings put back if changed (nothing should change them), the
    table in use by someone else reported, the routing re-synced."""
    for change in enforce_settings(cfg):
        cfg.ctx.log.warning(f"Kernel setting changed behind the agent's back, set again: {change}")
    if cfg.routing is None:
        return
    snapshot = cfg.routing.read()
    for use in cfg.routing.foreign(snapshot):
        cfg.ctx.log.warning(f"Table {cfg.routing.table} of {cfg.interface} is used by what OVSPort did not "
                            f"add ({use}): stop leaves it, start refuses the table while it is there")
    follow(cfg, link, snapshot)


def release(cfg: Config) -> None:
    """stop: every rule and route of ours removed, whatever state the port is in."""
    if cfg.routing is None:
        return
    for item in cfg.routing.remove():
        cfg.ctx.log.info(f"Routing of {cfg.interface}: removed {item}")


def undo(cfg: Config) -> None:
    """A failed start's clean-up: best effort, so that the start's own failure is reported."""
    try:
        release(cfg)
    except OCFError as err:
        cfg.ctx.log.error(f"After the failed start: {err.reason}")
