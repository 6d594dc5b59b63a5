"""Source-based routing for one interface: a routing table of its own, a rule per address.

When two interfaces of a host have addresses in the same subnet (an internal port that moves
between hosts, and the bridge's own address), the main table sends everything for that subnet
through one of them. A rule per address of the interface (``from ADDRESS lookup TABLE``) sends
what leaves from those addresses to the interface's table, which holds the main table's routes
that can go through the interface: replies leave through it, with its MAC address, and
``arp_filter`` can tell which interface answers for which address.

What is ours carries both the table number and :data:`PROTOCOL` (the ``protocol`` field of
``ip rule`` and ``ip route``); nothing else is ever changed or removed. Reading is one ``ip
-batch`` per family (the rules, the main table and the interface's table), so that a monitor
pays two processes; every change is one ``ip`` argv, and changes are rare (a start, a stop, an
address added or removed, a route of the main table changed).
"""

from __future__ import annotations

import _socket as socket  # not socket.py, which pulls enum and selectors (see .route)
import json

from ocf_agents.net.link import IP
from ocf_agents.ocf.codes import GenericError
from ocf_agents.ocf.record import Record

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Iterable, Sequence

    from ocf_agents.ocf.run import Runner

# The tag of every rule and route added here: a number that neither iproute2's rt_protos nor
# the kernel's RTPROT_* constants give to anyone (routing daemons use 8-18, 42, 99, 186-192).
PROTOCOL = 79
FAMILIES = ("inet", "inet6")
RTPROT_BOOT = 3  # a route's protocol when ip -N does not print one
DEFAULT_METRIC = {"inet": 0, "inet6": 1024}  # what the kernel gives a route added without one
# Route types as ip -N lists them (the kernel's RTN_* numbers) and as ip route takes them.
ROUTE_TYPES = {"1": "unicast", "2": "local", "3": "broadcast", "4": "anycast", "5": "multicast",
               "6": "blackhole", "7": "unreachable", "8": "prohibit", "9": "throw", "10": "nat"}


def family_of(address: str) -> str:
    return "inet6" if ":" in address else "inet"


def _flag(family: str) -> str:
    return "-6" if family == "inet6" else "-4"


def _bits(address: str) -> tuple[int, int]:
    """An address as (integer, width in bits), without the ipaddress module (it pulls re)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    packed = socket.inet_pton(family, address)
    return int.from_bytes(packed, "big"), len(packed) * 8


def network(cidr: str) -> str:
    """``ADDRESS/LENGTH`` as the network it lies in, written as ``ip`` writes it."""
    address, _, length = cidr.partition("/")
    value, width = _bits(address)
    host_bits = width - int(length)
    masked = (value >> host_bits << host_bits).to_bytes(width // 8, "big")
    family = socket.AF_INET6 if width == 128 else socket.AF_INET
    return f"{socket.inet_ntop(family, masked)}/{length}"


def contains(prefix: str, address: str) -> bool:
    """True when ``address`` lies in ``prefix`` (``NETWORK/LENGTH``; a bare address is a host)."""
    base, _, length = prefix.partition("/")
    if family_of(base) != family_of(address):
        return False
    value, width = _bits(address)
    start, _ = _bits(base)
    host_bits = width - int(length or width)
    return value >> host_bits == start >> host_bits


def is_link_local(address: str) -> bool:
    return address.lower().startswith(("fe8", "fe9", "fea", "feb"))


class Rule(Record):
    """One routing rule, as ``ip -N -j rule show`` lists it."""

    family: str
    source: str  # an address, or "all"
    priority: int
    table: int | None  # None: a rule that looks up no table (goto, blackhole, ...)
    protocol: int

    def argv(self, verb: str, table: int) -> list[str]:
        return [IP, _flag(self.family), "rule", verb, "from", self.source, "priority", str(self.priority),
                "lookup", str(table), "protocol", str(self.protocol)]

    def __str__(self) -> str:
        return f"rule from {self.source} lookup {self.table} priority {self.priority} protocol {self.protocol}"


class Route(Record):
    """One route, as ``ip -N -j route show`` lists it."""

    family: str
    dst: str  # "default", an address (a host route) or NETWORK/LENGTH
    dev: str | None
    gateway: str | None = None
    metric: int = 0
    protocol: int = RTPROT_BOOT
    kind: str = "unicast"  # blackhole, unreachable, ... when not a unicast route
    multipath: bool = False

    @property
    def connected(self) -> bool:
        """A plain route to a subnet on a link: no gateway, one device."""
        return self.kind == "unicast" and not self.multipath and self.gateway is None and self.dst != "default"

    def argv(self, verb: str, table: int) -> list[str]:
        return [IP, _flag(self.family), "route", verb, *self._words(), "table", str(table), "protocol", str(self.protocol)]

    def _words(self) -> list[str]:
        """The route as ``ip route`` takes it (a blackhole or a route without a device, as a
        crashed start or someone else may leave, has neither ``via`` nor ``dev``)."""
        kind = [self.kind] if self.kind != "unicast" else []
        via = ["via", self.gateway] if self.gateway else []
        dev = ["dev", self.dev] if self.dev else []
        return [*kind, self.dst, *via, *dev, "metric", str(self.metric)]

    def __str__(self) -> str:
        return f"route {' '.join(self._words())}"


def _rule(family: str, data: dict) -> Rule:
    table = data.get("table")
    return Rule(family, data.get("src", "all"), int(data.get("priority", 0)),
                int(table) if table is not None and table.isdigit() else None, int(data.get("protocol", 0)))


def _route(family: str, data: dict) -> Route:
    return Route(family, data.get("dst", ""), data.get("dev"), data.get("gateway"),
                 int(data.get("metric", DEFAULT_METRIC[family])), int(data.get("protocol", RTPROT_BOOT)),
                 ROUTE_TYPES.get(data.get("type", "1"), data.get("type")), "nexthops" in data or "nhid" in data)


class Snapshot(Record):
    """The rules of both families, the main table and one table, read at one moment."""

    rules: tuple[Rule, ...]
    main: tuple[Route, ...]
    table: tuple[Route, ...]  # all of the table, ours and anyone else's


def read(runner: Runner, table: int) -> Snapshot:
    """Everything :class:`SourceRouting` compares, in one ``ip -batch`` per family."""
    commands = f"rule show\nroute show table main\nroute show table {table}\n"
    rules: list[Rule] = []
    main: list[Route] = []
    in_table: list[Route] = []
    for family in FAMILIES:
        result = runner.check([IP, _flag(family), "-j", "-N", "-batch", "-"], input=commands)
        listed_rules, listed_main, listed_table = (json.loads(line) for line in result.stdout.split("\n") if line)
        rules += (_rule(family, d) for d in listed_rules)
        main += (_route(family, d) for d in listed_main)
        in_table += (_route(family, d) for d in listed_table)
    return Snapshot(tuple(rules), tuple(main), tuple(in_table))


def sharing(main: Iterable[Route], dev: str, networks: Iterable[str]) -> list[tuple[str, str]]:
    """(interface, network) for the other interfaces the main table reaches ``networks`` on."""
    wanted = set(networks)
    return [(r.dev, r.dst) for r in main if r.connected and r.dst in wanted and r.dev not in (dev, None)]


def connected_networks(main: Sequence[Route], cidrs: Iterable[str]) -> list[str]:
    """The networks an interface with ``cidrs`` is on: those of its addresses, and the main
    table's subnets that hold one of them (a /32 address in a subnet another interface has)."""
    found: list[str] = []
    for cidr in cidrs:
        address, _, length = cidr.partition("/")
        mine = [network(cidr)] if int(length) < _bits(address)[1] else []
        for prefix in mine + [r.dst for r in main if r.connected and contains(r.dst, address)]:
            if prefix not in found:
                found.append(prefix)
    return found


def plan(dev: str, cidrs: Sequence[str], main: Sequence[Route], table: int, priority: int
         ) -> tuple[list[Rule], list[Route]]:
    """The rules and routes the table of ``dev`` must hold for its addresses ``cidrs``.

    One rule per address. Routes: each network ``dev`` is on, through ``dev``; then each
    single-path route of the main table whose gateway ``dev`` can reach (in one of its
    networks, or a link-local gateway of an interface on one of them), through ``dev``, with
    its metric. A route whose gateway ``dev`` cannot reach is left out: traffic to it finds no
    route in this table and falls through to the rules after this one (the main table's).
    """
    rules = [Rule(family_of(c.partition("/")[0]), c.partition("/")[0], priority, table, PROTOCOL) for c in cidrs]
    networks = connected_networks(main, cidrs)
    # (family, interface) on one of the networks: a link-local gateway there is on the port's link
    neighbours = {(family_of(n), iface) for iface, n in sharing(main, dev, networks)}
    neighbours |= {(family_of(n), dev) for n in networks}
    routes = [Route(family_of(n), n, dev, None, DEFAULT_METRIC[family_of(n)], PROTOCOL) for n in networks]
    for r in main:
        if r.kind != "unicast" or r.multipath or r.gateway is None:
            continue
        reachable = any(contains(n, r.gateway) for n in networks) or (
            is_link_local(r.gateway) and (r.family, r.dev) in neighbours)
        if reachable:
            routes.append(Route(r.family, r.dst, dev, r.gateway, r.metric, PROTOCOL))
    unique: dict[tuple[str, str, int], Route] = {}
    for route in routes:  # one route per destination and metric, as the kernel keeps them
        unique.setdefault((route.family, route.dst, route.metric), route)
    return rules, list(unique.values())


class SourceRouting:
    """The source-based routing of interface ``dev`` in ``table``, rules at ``priority``."""

    def __init__(self, runner: Runner, dev: str, table: int, priority: int) -> None:
        self.runner = runner
        self.dev = dev
        self.table = table
        self.priority = priority

    def read(self) -> Snapshot:
        return read(self.runner, self.table)

    def ours(self, snapshot: Snapshot) -> tuple[list[Rule], list[Route]]:
        """What carries both our table and our protocol."""
        rules = [r for r in snapshot.rules if r.table == self.table and r.protocol == PROTOCOL]
        return rules, [r for r in snapshot.table if r.protocol == PROTOCOL]

    def foreign(self, snapshot: Snapshot) -> list[str]:
        """Whatever else uses the table: rules that look it up, routes in it, not ours."""
        rules = [str(r) for r in snapshot.rules if r.table == self.table and r.protocol != PROTOCOL]
        return rules + [str(r) for r in snapshot.table if r.protocol != PROTOCOL]

    def sync(self, cidrs: Sequence[str], snapshot: Snapshot) -> list[tuple[str, Rule | Route]]:
        """Make our rules and routes those :func:`plan` gives for ``cidrs``: remove ours that
        no longer fit, add what is missing (routes before the rules that lead to them).
        Returns what it did, ("added" or "removed", the rule or route); GenericError when
        ``ip`` refuses a change."""
        rules, routes = plan(self.dev, cidrs, snapshot.main, self.table, self.priority)
        have_rules, have_routes = self.ours(snapshot)
        changes: list[tuple[str, Rule | Route]] = []
        changes += (("removed", r) for r in have_rules if r not in rules)
        changes += (("removed", r) for r in have_routes if r not in routes)
        changes += (("added", r) for r in routes if r not in have_routes)
        changes += (("added", r) for r in rules if r not in have_rules)
        for verb, item in changes:
            adding = verb == "added"
            result = self.runner.run(item.argv("add" if adding else "del", self.table))
            if not result.ok:
                raise GenericError(f"Could not change the routing of {self.dev} in table {self.table} "
                                   f"(to {'add' if adding else 'remove'} {item}): {result.describe()}")
        return changes

    def remove(self) -> list[Rule | Route]:
        """Delete every rule and route of ours, and return them. Something already gone (a
        route the kernel dropped with its device) is no failure; one of ours still there after
        the attempt is, a GenericError that names it."""
        rules, routes = self.ours(self.read())
        results = [self.runner.run(x.argv("del", self.table)) for x in [*rules, *routes]]
        left_rules, left_routes = self.ours(self.read())
        if left_rules or left_routes:
            why = next((r.describe() for r in results if not r.ok), "")
            left = ", ".join(str(x) for x in [*left_rules, *left_routes])
            raise GenericError(f"Could not remove from table {self.table}: {left} ({why})")
        return [*rules, *routes]
