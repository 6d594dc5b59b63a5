"""Network devices through ``ip`` (iproute2) and, when the operator keeps the addresses in
/etc/network/interfaces, through ifupdown's ``ifup``/``ifdown``.

One ``ip -j addr show`` gives a device's flags, MAC address and addresses in one process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ocf_agents.ocf.codes import GenericError
from ocf_agents.ocf.run import Runner

IP = "ip"
IFUP = "ifup"
IFDOWN = "ifdown"
# Addresses a host may not announce yet (still being checked for duplicates) or ever.
UNUSABLE_FLAGS = ("tentative", "dadfailed")


@dataclass(frozen=True)
class Link:
    """One network device as ``ip`` reports it."""

    name: str
    mac: str
    up: bool  # administratively up (the UP flag)
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()  # only addresses that may be used: not tentative, no DAD failure
    cidrs: tuple[str, ...] = ()  # the usable ones of scope global, as ADDRESS/PREFIXLEN (both families)


def _usable(info: list[dict]) -> list[dict]:
    return [a for a in info if "local" in a and not any(a.get(f) for f in UNUSABLE_FLAGS)]


def _addresses(info: list[dict], family: str) -> tuple[str, ...]:
    return tuple(a["local"] for a in _usable(info) if a.get("family") == family)


def _link(dev: dict) -> Link:
    """A device as one element of ``ip -j addr show`` describes it."""
    info = dev.get("addr_info", [])
    return Link(
        name=dev.get("ifname", ""),
        mac=dev.get("address", "").lower(),
        up="UP" in dev.get("flags", []),
        ipv4=_addresses(info, "inet"),
        ipv6=_addresses(info, "inet6"),
        cidrs=tuple(f"{a['local']}/{a['prefixlen']}" for a in _usable(info) if a.get("scope") == "global"),
    )


class Links:
    """Reads and changes network devices for one agent invocation."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def show(self, name: str) -> Link | None:
        """The device ``name`` in this network namespace, or None when there is none."""
        result = self.runner.run([IP, "-j", "addr", "show", "dev", name])
        if not result.ok:
            if "does not exist" in result.stderr:
                return None
            raise GenericError(result.describe())
        (dev,) = json.loads(result.stdout)
        return _link(dev)

    def holding(self, ip: str) -> Link | None:
        """The device that holds the address ``ip`` (usable: not tentative), or None.

        Asked in two steps: ``ip addr show to`` names the device but leaves out its MAC
        address (iproute2 6.1), which the device's own ``ip addr show dev`` gives; a frame
        built with the empty one went nowhere (seen in the lab: no announcement left a node)."""
        result = self.runner.check([IP, "-j", "addr", "show", "to", ip])
        found = next((link for link in map(_link, json.loads(result.stdout or "[]"))
                      if ip in link.ipv4 + link.ipv6), None)
        return self.show(found.name) if found is not None else None

    def bring_up(self, name: str, method: str) -> None:
        """``ip link set dev NAME up``, or ``ifup NAME`` when ``method`` is ifupdown."""
        argv = [IFUP, name] if method == "ifupdown" else [IP, "link", "set", "dev", name, "up"]
        self.runner.check(argv)

    def bring_down(self, name: str, method: str) -> bool:
        """The reverse of :meth:`bring_up`; False (the caller logs it) when it failed."""
        argv = [IFDOWN, name] if method == "ifupdown" else [IP, "link", "set", "dev", name, "down"]
        return self.runner.run(argv).ok
