"""A master_ip the promoted instance holds itself (``hold_master_ip=yes``), instead of an
IPaddr2 resource ordered after the promote and colocated with it.

Pacemaker runs a switchover with a VIP as VIP stop, demote, promote, VIP start; with the
address moved by the demote and the promote themselves it is two rounds (docs/guide.md, "A
switchover in one transition"). Never on two nodes that can both answer: the demote removes it
before anything else (clients stop writing before the demote's barrier, as when the VIP stops
first), a demote or stop that cannot remove it fails (Pacemaker's recovery then stops the
instance or fences the node), and a lost node is fenced before another is promoted.
"""

from __future__ import annotations

import os

from ocf_agents.net import route
from ocf_agents.ocf.codes import ArgsError, ConfigurationError, GenericError, OCFError

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config

IP = "ip"
# ip(8)'s complaint when the address to delete is not there: nothing to do.
NOT_THERE = "Cannot assign requested address"


def check(cfg: Config) -> None:
    """The parameters a held master_ip needs, wrong for every host (6) or only here (2)."""
    if not cfg.hold_master_ip:
        return
    if cfg.lb_mode:
        raise ConfigurationError("Parameter hold_master_ip=yes is invalid with listen_on_master_ip_only=no: "
                                 "in load-balancer mode no node holds master_ip")
    if not cfg.master_ip_nic:
        raise ConfigurationError("Parameter master_ip_nic='' is invalid: hold_master_ip=yes needs the "
                                 "interface master_ip is added to")
    limit = 128 if ":" in cfg.master_ip else 32
    if cfg.master_ip_prefix is None or cfg.master_ip_prefix > limit:
        raise ConfigurationError(f"Parameter master_ip_cidr_netmask={cfg.master_ip_prefix or ''!r} is invalid: "
                                 f"hold_master_ip=yes needs master_ip {cfg.master_ip}'s prefix length, "
                                 f"1 to {limit}")
    if not os.path.exists(f"/sys/class/net/{cfg.master_ip_nic}"):
        raise ArgsError(f"Parameter master_ip_nic={cfg.master_ip_nic!r} is invalid here: no such network "
                        "device on this host")


def _cidr(cfg: Config) -> str:
    return f"{cfg.master_ip}/{cfg.master_ip_prefix}"


def add(cfg: Config) -> None:
    """Add master_ip (``ip addr replace``: idempotent; IPv6 without duplicate address
    detection, which would keep it unusable for a second or more, as IPaddr2's nodad)."""
    argv = [IP, "addr", "replace", _cidr(cfg), "dev", str(cfg.master_ip_nic)]
    cfg.ctx.runner.check(argv + (["nodad"] if ":" in cfg.master_ip else []))


def announce_held(cfg: Config) -> None:
    """Announce master_ip added by :func:`add` on master_ip_nic, so that the clients'
    neighbour caches name this node at once: the device is known, its MAC is read from sysfs
    (no ``ip`` process on the promote's path)."""
    where = announce(cfg, cfg.master_ip, str(cfg.master_ip_nic))
    cfg.ctx.log.info(f"holds master_ip {_cidr(cfg)} on {cfg.master_ip_nic}" +
                     (f", announced on {where}" if where else ""))


def remove(cfg: Config) -> None:
    """Remove master_ip when it is there; GenericError when it stays."""
    if not holds(cfg):
        return
    result = cfg.ctx.runner.run([IP, "addr", "del", _cidr(cfg), "dev", str(cfg.master_ip_nic)])
    if not result.ok and NOT_THERE not in result.stderr:
        raise GenericError(f"Could not remove master_ip {_cidr(cfg)} from {cfg.master_ip_nic}: {result.describe()}")
    cfg.ctx.log.info(f"removed master_ip {_cidr(cfg)} from {cfg.master_ip_nic}")


def holds(cfg: Config) -> bool:
    """master_ip is an address of this node (one rtnetlink request: no process)."""
    return cfg.hold_master_ip and route.address_is_local(cfg.master_ip)


def announce(cfg: Config, ip: str, device: str | None = None) -> str | None:
    """Tell the clients' neighbour caches that master_ip is here now: after :func:`add`, and
    before the reset-clients helper's first SYN (clients.py).

    IPaddr2 announces it too, but from a process of its own that may come a few ms after the
    address (seen in the lab: the first SYN 8 ms before IPaddr2's first ARP), and a client
    whose cache still names the old node sends its answer there; Linux then answers the next
    SYN of that session only 0.5 s later (tcp_invalid_ratelimit). The same frames again do
    no harm. ``device``: where it is, when known (else looked up). The device it was
    announced on, or None."""
    from ocf_agents.net.announce import device_mac, gratuitous_arp, send, unsolicited_advertisement
    from ocf_agents.net.link import Links

    try:
        if device is None:
            link = Links(cfg.ctx.runner).holding(ip)
            if link is None:
                return None
            device, mac = link.name, link.mac
        else:
            mac = device_mac(device)
        frame = unsolicited_advertisement(mac, ip) if ":" in ip else gratuitous_arp(mac, ip)
        send(device, [frame])
    except (OCFError, OSError, ValueError) as err:  # IPaddr2's own announcement, or the clients' retries, will do
        cfg.ctx.log.warning(f"could not announce master_ip {ip}: {getattr(err, 'reason', err)}")
        return None
    return device
