"""OVSPort against a real Open vSwitch (userspace datapath) inside a network namespace.

Each test checks with ``ovs-vsctl`` and ``ip`` what the agent did, and uses its own interface
name; the fixture (tests/integration/ovs_netns.py) removes every namespace and process.
"""

from __future__ import annotations

import json
import shutil

import pytest
from ovs_netns import (AGENT, BRIDGE, OTHER, OTHER_BRIDGE, OTHER_IPS, OVS, PEER_IP, PEER_LINK, RESOURCE,  # noqa: F401
                       SUBNET6_LEN, SUBNET_LEN, PortLab, SharedBridge, port_lab, run, shared_bridge)
from test_ovndb_imports import REPORT

from ocf_agents.lab.drill.probes import frame_senders
from ocf_agents.net.names import derived_mac
from ocf_agents.net.policy import PROTOCOL

NOT_RUNNING, SUCCESS, GENERIC = 7, 0, 1


def exit_reason(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("ocf-exit-reason:")]
    return lines[-1] if lines else ""


def port_exists(lab: PortLab, name: str) -> bool:
    return lab.ovs.vsctl("port-to-br", name, check=False).returncode == 0


@pytest.fixture
def iface(port_lab: PortLab):
    """A fresh interface name, with the port stopped at the end of the test."""
    name = port_lab.new_interface()
    yield name
    port_lab.agent("stop", interface=name)


def test_start_creates_the_port_as_configured(port_lab: PortLab, iface: str) -> None:
    params = dict(interface=iface, mac="02:00:5E:10:00:01", tag="12", vlan_mode="native-untagged",
                  iface_id="lsp:vip=1", vm_id="vip-service")
    assert port_lab.agent("monitor", **params).returncode == NOT_RUNNING

    started = port_lab.agent("start", **params)
    assert started.returncode == SUCCESS, started.stderr

    assert port_lab.ovs.get("Port", iface, "tag") == "12"
    assert port_lab.ovs.get("Port", iface, "vlan_mode") == "native-untagged"
    assert port_lab.ovs.vsctl("port-to-br", iface).stdout.strip() == BRIDGE
    assert port_lab.ovs.get("Interface", iface, "type") == "internal"
    assert port_lab.ovs.get("Interface", iface, "mac") == '"02:00:5e:10:00:01"'
    ids = {key: port_lab.ovs.get("Interface", iface, f"external_ids:{key}").strip('"')
           for key in ("iface-id", "attached-mac", "iface-status", "vm-id")}
    assert ids == {"iface-id": "lsp:vip=1", "attached-mac": "02:00:5e:10:00:01",
                   "iface-status": "active", "vm-id": "vip-service"}
    link = port_lab.ns.link(iface)
    assert link["address"] == "02:00:5e:10:00:01" and "UP" in link["flags"]
    assert port_lab.agent("monitor", **params).returncode == SUCCESS


def test_start_is_idempotent_and_keeps_the_running_device(port_lab: PortLab, iface: str) -> None:
    assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    before = port_lab.ns.link(iface)["ifindex"]
    assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    assert port_lab.ns.link(iface)["ifindex"] == before


def test_mac_is_derived_from_the_resource_name_not_the_clone_number(port_lab: PortLab, iface: str) -> None:
    assert port_lab.agent("start", instance=f"{RESOURCE}:1", interface=iface).returncode == SUCCESS
    mac = port_lab.ns.link(iface)["address"]
    assert mac == derived_mac(RESOURCE, iface)
    first = int(mac[:2], 16)
    assert first & 0x02 and not first & 0x01, "locally administered unicast"
    assert port_lab.agent("monitor", instance=RESOURCE, interface=iface).returncode == SUCCESS


def test_stop_removes_the_port_and_is_idempotent(port_lab: PortLab, iface: str) -> None:
    assert port_lab.agent("start", interface=iface, tag="5").returncode == SUCCESS
    assert port_lab.agent("stop", interface=iface, tag="5").returncode == SUCCESS
    assert not port_exists(port_lab, iface)
    assert port_lab.ns.link(iface) is None
    assert port_lab.agent("monitor", interface=iface).returncode == NOT_RUNNING
    assert port_lab.agent("stop", interface=iface).returncode == SUCCESS


def test_monitor_catches_a_mac_changed_behind_its_back(port_lab: PortLab, iface: str) -> None:
    assert port_lab.agent("start", interface=iface, mac="02:00:5e:10:00:02").returncode == SUCCESS
    port_lab.ovs.vsctl("set", "Interface", iface, 'mac="02:00:5e:10:00:99"')
    result = port_lab.agent("monitor", interface=iface, mac="02:00:5e:10:00:02")
    assert result.returncode == GENERIC
    assert "02:00:5e:10:00:99" in exit_reason(result) and "02:00:5e:10:00:02" in exit_reason(result)


def test_monitor_catches_a_port_deleted_behind_its_back(port_lab: PortLab, iface: str) -> None:
    assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    port_lab.ovs.vsctl("del-port", iface)
    assert port_lab.agent("monitor", interface=iface).returncode == NOT_RUNNING


def test_monitor_catches_a_link_brought_down(port_lab: PortLab, iface: str) -> None:
    assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    port_lab.ns.run(["ip", "link", "set", "dev", iface, "down"])
    result = port_lab.agent("monitor", interface=iface)
    assert result.returncode == GENERIC and "down" in exit_reason(result)


def test_probe_of_a_port_left_down_after_a_reboot_says_stopped(port_lab: PortLab, iface: str) -> None:
    """After a reboot OVS still has the port, with its link down: a probe says 7 (start
    replaces the port), not an error that leaves a failed action in the cluster."""
    assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    port_lab.ns.run(["ip", "link", "set", "dev", iface, "down"])
    assert port_lab.agent("monitor", interface=iface, interval_ms=0).returncode == NOT_RUNNING
    assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    assert port_lab.agent("monitor", interface=iface).returncode == SUCCESS


def test_port_on_another_bridge_is_an_error_and_left_alone(port_lab: PortLab, iface: str) -> None:
    port_lab.ovs.vsctl("add-port", OTHER_BRIDGE, iface, "--", "set", "Interface", iface, "type=internal")
    monitored = port_lab.agent("monitor", interface=iface)
    assert monitored.returncode == GENERIC and OTHER_BRIDGE in exit_reason(monitored)
    assert port_lab.agent("start", interface=iface).returncode == GENERIC
    assert port_lab.agent("stop", interface=iface).returncode == SUCCESS
    assert port_lab.ovs.vsctl("port-to-br", iface).stdout.strip() == OTHER_BRIDGE
    port_lab.ovs.vsctl("del-port", iface)


def test_monitor_catches_a_port_whose_interface_is_missing(port_lab: PortLab, iface: str) -> None:
    port_lab.ovs.vsctl("add-port", BRIDGE, iface)  # a system interface that does not exist
    result = port_lab.agent("monitor", interface=iface)
    assert result.returncode == GENERIC
    assert "does not exist" in exit_reason(result) and "No such device" in exit_reason(result)


def test_failed_start_leaves_nothing_behind(port_lab: PortLab, iface: str) -> None:
    # A veth already holds the name: OVS cannot create the internal device.
    port_lab.ns.run(["ip", "link", "add", iface, "type", "veth", "peer", "name", iface + "b"])
    result = port_lab.agent("start", interface=iface)
    assert result.returncode == GENERIC and "could not" in exit_reason(result)
    assert not port_exists(port_lab, iface)
    veth = port_lab.ns.link(iface)
    assert veth is not None and "UP" not in veth["flags"], "someone else's device is untouched"
    port_lab.ns.run(["ip", "link", "del", iface])


def test_failed_ifup_leaves_nothing_behind(port_lab: PortLab, iface: str) -> None:
    port_lab.ifupdown_config("# no stanza for this interface\n")
    result = port_lab.agent("start", interface=iface, bringup="ifupdown")
    assert result.returncode == GENERIC and "ifup" in exit_reason(result)
    assert not port_exists(port_lab, iface)


def test_unreachable_ovs_is_stopped_for_probe_and_stop(port_lab: PortLab, iface: str) -> None:
    gone = f"unix:{port_lab.tmp}/no-such.sock"
    assert port_lab.agent("monitor", interval_ms=0, interface=iface, ovsdb=gone).returncode == NOT_RUNNING
    assert port_lab.agent("stop", interface=iface, ovsdb=gone).returncode == SUCCESS
    assert port_lab.agent("start", interface=iface, ovsdb=gone).returncode == GENERIC


def test_start_announces_the_mac_on_the_bridge(port_lab: PortLab, iface: str) -> None:
    mac = derived_mac(RESOURCE, iface)
    with port_lab.capture(1, mac) as pcap:
        assert port_lab.agent("start", interface=iface).returncode == SUCCESS
    frames = port_lab.decode(pcap)
    assert f"{mac} > ff:ff:ff:ff:ff:ff, ethertype Reverse ARP (0x8035)" in frames
    assert f"Reverse Request who-is {mac} tell {mac}" in frames


def test_ifupdown_start_announces_every_address(port_lab: PortLab, iface: str) -> None:
    port_lab.ifupdown_config(
        f"iface {iface} inet static\n    address 198.51.100.10/24\n"
        f"iface {iface} inet6 static\n    address fd0c:fa::10/64\n    dad-attempts 0\n"
    )
    mac = derived_mac(RESOURCE, iface)
    with port_lab.capture(3, mac) as pcap:
        assert port_lab.agent("start", interface=iface, bringup="ifupdown").returncode == SUCCESS
    frames = port_lab.decode(pcap)
    assert "ethertype Reverse ARP (0x8035)" in frames
    assert "Request who-has 198.51.100.10 tell 198.51.100.10" in frames
    assert "neighbor advertisement" in frames and "tgt is fd0c:fa::10" in frames
    assert "Flags [override]" in frames and "[icmp6 sum ok]" in frames and "hlim 255" in frames
    addresses = json.loads(port_lab.ns.run(["ip", "-j", "addr", "show", "dev", iface]).stdout)[0]["addr_info"]
    assert {"198.51.100.10", "fd0c:fa::10"} <= {a["local"] for a in addresses}
    assert port_lab.agent("stop", interface=iface, bringup="ifupdown").returncode == SUCCESS
    assert port_lab.ns.link(iface) is None


# -- a port on a bridge shared with another interface in its subnet ---------------------------
# (route_table, arp_isolation, ipv6_autoconf: tests/integration/ovs_netns.py's shared_bridge)
VIP, VIP6 = "203.0.113.5", "fd0c:fb::5"
PORT_MAC = "02:00:5e:10:00:05"
TABLE = "4240"
SHARED = {"mac": PORT_MAC, "route_table": TABLE, "arp_isolation": "yes", "ipv6_autoconf": "no"}
ARGS = 2
INSTALLED = 5


def add_addresses(node: OVS, name: str) -> None:
    """What IPaddr2 does after the port started (DAD skipped, IPaddr2 waits for it)."""
    node.ns.run(["ip", "addr", "add", f"{VIP}/{SUBNET_LEN}", "dev", name])
    node.ns.run(["ip", "addr", "add", f"{VIP6}/{SUBNET6_LEN}", "dev", name, "nodad"])


def remove_addresses(node: OVS, name: str) -> None:
    node.ns.run(["ip", "addr", "flush", "dev", name, "scope", "global"])


def routing_state(node: OVS) -> list[str]:
    """Every rule, and every route of every table, of both families, as ``ip -N -j`` lists them."""
    listed = []
    for family in ("-4", "-6"):
        for what in (["rule", "show"], ["route", "show", "table", "all"]):
            shown = json.loads(node.ns.run(["ip", family, "-j", "-N", *what]).stdout)
            listed += [f"{family} {what[0]} {json.dumps(entry, sort_keys=True)}" for entry in shown]
    return sorted(listed)


def ours(node: OVS, table: str = TABLE) -> list[str]:
    """The rules and routes the agent added: its protocol, its table."""
    tagged = [line for line in routing_state(node) if f'"protocol": "{PROTOCOL}"' in line]
    return [line for line in tagged if f'"table": "{table}"' in line]


def senders(pcap, other_ip: str) -> dict[str, set[str]]:
    """The source MAC addresses of what the peer captured, by kind of frame."""
    return frame_senders(pcap, {
        "ARP reply for the address": f"Reply {VIP} is-at",
        "ARP reply for OTHER's address": f"Reply {other_ip} is-at",
        "ARP request from the address": f"tell {VIP},",
        "IPv4 from the address": f": {VIP} > ",
        "IPv6 from the address": f": {VIP6} > ",
    })


def exchange(bed: SharedBridge, node: OVS, name: str) -> dict[str, set[str]]:
    """The peer asks for the port's addresses and OTHER's and pings them, and the node pings
    the peer from the port's address: who answered and sent, by source MAC."""
    other_ip = OTHER_IPS[bed.nodes.index(node)]
    bed.lab.peer.run(["ip", "neigh", "flush", "dev", PEER_LINK])
    with bed.lab.sniff(f"arp or src host {VIP} or src host {VIP6}") as pcap:
        for argv in (["ping", "-c1", "-W2", VIP], ["ping", "-c1", "-W2", other_ip], ["ping", "-6", "-c1", "-W2", VIP6]):
            bed.lab.peer.run(argv, check=False)
        for dev in (name, OTHER):
            node.ns.run(["ip", "neigh", "flush", "dev", dev])
        node.ns.run(["ping", "-c1", "-W2", "-I", VIP, PEER_IP], check=False)
    return senders(pcap, other_ip)


def peer_neighbour(bed: SharedBridge) -> str | None:
    shown = json.loads(bed.lab.peer.run(["ip", "-j", "neigh", "show", "dev", PEER_LINK, "to", VIP]).stdout)
    return shown[0].get("lladdr") if shown else None


@pytest.fixture
def shared_iface(shared_bridge: SharedBridge):
    """A fresh interface name, with the port stopped on both nodes at the end of the test (its
    routing in TABLE with it)."""
    name = shared_bridge.lab.new_interface()
    yield name
    for node in shared_bridge.nodes:
        shared_bridge.lab.agent("stop", on=node, interface=name, **SHARED)


def test_shared_bridge_address_answers_and_sends_with_the_port_mac_only_with_the_feature(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    """The same exchange without the parameters and with them: without, OTHER answers ARP for
    the port's address (its arp_filter routes the reply through itself) and sends its traffic,
    and the port answers for OTHER's address; with them, each answers only for its own, and
    everything from the port's addresses leaves through the port."""
    bed, node = shared_bridge, shared_bridge.nodes[0]
    other = bed.other_mac(node)
    seen = {}
    for feature, params in (("off", {"mac": PORT_MAC}), ("on", SHARED)):
        assert bed.lab.agent("start", interface=shared_iface, **params).returncode == SUCCESS
        add_addresses(node, shared_iface)
        assert bed.lab.agent("monitor", interface=shared_iface, **params).returncode == SUCCESS
        seen[feature] = exchange(bed, node, shared_iface)
        remove_addresses(node, shared_iface)
        assert bed.lab.agent("stop", interface=shared_iface, **params).returncode == SUCCESS

    off, on = seen["off"], seen["on"]
    assert other in off["ARP reply for the address"] and PORT_MAC in off["ARP reply for the address"]
    assert off["IPv4 from the address"] == {other} and off["ARP request from the address"] == {other}
    assert PORT_MAC in off["ARP reply for OTHER's address"]

    assert on["ARP reply for the address"] == {PORT_MAC}
    assert on["ARP request from the address"] == {PORT_MAC}
    assert on["IPv4 from the address"] == {PORT_MAC} and on["IPv6 from the address"] == {PORT_MAC}
    assert on["ARP reply for OTHER's address"] == {other}


def test_shared_bridge_after_a_move_the_peer_keeps_the_port_mac(shared_bridge: SharedBridge, shared_iface: str) -> None:
    """The group moves as Pacemaker moves it (the address, then the port, stop on the first
    node; the port, then the address, start on the second); the peer's neighbour entry for
    the address, never flushed, still holds the port's MAC after traffic both ways, and the
    second node's OTHER never speaks for the address."""
    bed = shared_bridge
    first, second = bed.nodes
    assert bed.lab.agent("start", interface=shared_iface, **SHARED).returncode == SUCCESS
    add_addresses(first, shared_iface)
    assert bed.lab.agent("monitor", interface=shared_iface, **SHARED).returncode == SUCCESS
    bed.lab.peer.run(["ping", "-c1", "-W2", VIP])
    assert peer_neighbour(bed) == PORT_MAC

    remove_addresses(first, shared_iface)
    assert bed.lab.agent("stop", interface=shared_iface, **SHARED).returncode == SUCCESS
    assert bed.lab.agent("start", on=second, interface=shared_iface, **SHARED).returncode == SUCCESS
    add_addresses(second, shared_iface)
    assert bed.lab.agent("monitor", on=second, interface=shared_iface, **SHARED).returncode == SUCCESS

    with bed.lab.sniff(f"arp or src host {VIP}") as pcap:
        assert bed.lab.peer.run(["ping", "-c1", "-W2", VIP], check=False).returncode == 0
        second.ns.run(["ip", "neigh", "flush", "dev", shared_iface])
        assert second.ns.run(["ping", "-c1", "-W2", "-I", VIP, PEER_IP], check=False).returncode == 0
    assert peer_neighbour(bed) == PORT_MAC
    seen = senders(pcap, OTHER_IPS[1])
    assert seen["IPv4 from the address"] == {PORT_MAC} and seen["ARP request from the address"] == {PORT_MAC}
    assert bed.other_mac(second) not in set().union(*seen.values())
    assert ours(first) == [], "the first node's stop removed its rules"


def test_shared_bridge_address_answers_with_the_port_mac_before_the_first_monitor(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    """Between IPaddr2 adding the address and the monitor that routes it (up to one interval
    after a fail-over), the port already answers ARP for the address, with its MAC:
    arp_isolation must not make the answer wait for the port's rule (found by the lab's
    port-failover step, where the address went unanswered until that monitor). OTHER has the
    guide's arp_filter=1 here, which answers too in that window, as docs/ovsport-guide.md
    says; the lab's nodes have arp_ignore=1 and answer nothing there."""
    bed, node = shared_bridge, shared_bridge.nodes[0]
    assert bed.lab.agent("start", interface=shared_iface, **SHARED).returncode == SUCCESS
    add_addresses(node, shared_iface)
    assert ours(node) == [], "no monitor ran: the address is not routed through the table yet"
    bed.lab.peer.run(["ip", "neigh", "flush", "dev", PEER_LINK])
    with bed.lab.sniff(f"arp and src host {VIP}") as pcap:
        answered = bed.lab.peer.run(["ping", "-c1", "-W2", VIP], check=False).returncode == 0
    assert answered
    assert PORT_MAC in senders(pcap, OTHER_IPS[0])["ARP reply for the address"]
    remove_addresses(node, shared_iface)


def test_shared_bridge_monitor_follows_the_addresses_and_stop_removes_exactly_what_was_added(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    bed, node = shared_bridge, shared_bridge.nodes[0]
    # Someone else's: a rule for the same address in another table, and our protocol elsewhere.
    node.ns.run(["ip", "rule", "add", "from", VIP, "lookup", "4241", "priority", "32000"])
    node.ns.run(["ip", "rule", "add", "from", "192.0.2.9", "lookup", "4242", "protocol", str(PROTOCOL)])
    node.ns.run(["ip", "route", "add", "blackhole", "192.0.2.0/24", "table", "4242", "protocol", str(PROTOCOL)])
    try:
        before = routing_state(node)
        assert bed.lab.agent("start", interface=shared_iface, **SHARED).returncode == SUCCESS
        assert ours(node) == [], "no address on the port yet: nothing to route"
        add_addresses(node, shared_iface)
        monitored = bed.lab.agent("monitor", interface=shared_iface, **SHARED)
        assert monitored.returncode == SUCCESS and f"added rule from {VIP} lookup {TABLE}" in monitored.stderr
        routed = ours(node)
        assert [line for line in routed if " rule " in line] == [
            f'-4 rule {{"priority": 32765, "protocol": "{PROTOCOL}", "src": "{VIP}", "table": "{TABLE}"}}',
            f'-6 rule {{"priority": 32765, "protocol": "{PROTOCOL}", "src": "{VIP6}", "table": "{TABLE}"}}',
        ]
        routes = {(line[:2], entry["dst"]): entry for line in routed if " route " in line
                  for entry in [json.loads(line.split(" ", 2)[2])]}
        assert set(routes) == {("-4", "203.0.113.0/24"), ("-6", "fd0c:fb::/64"), ("-4", "default"), ("-6", "default")}
        assert routes[("-4", "default")]["gateway"] == PEER_IP
        assert routes[("-6", "default")]["gateway"] == bed.peer_link_local, "a link-local gateway of OTHER's"
        assert {r["dev"] for r in routes.values()} == {shared_iface}

        # A rule deleted behind the agent's back: a probe only looks, a recurring monitor puts it back.
        node.ns.run(["ip", "rule", "del", "from", VIP, "lookup", TABLE, "protocol", str(PROTOCOL)])
        assert bed.lab.agent("monitor", interval_ms=0, interface=shared_iface, **SHARED).returncode == SUCCESS
        assert len(ours(node)) == len(routed) - 1
        assert bed.lab.agent("monitor", interface=shared_iface, **SHARED).returncode == SUCCESS
        assert ours(node) == routed

        remove_addresses(node, shared_iface)  # IPaddr2 stops first
        assert bed.lab.agent("monitor", interface=shared_iface, **SHARED).returncode == SUCCESS
        assert not [line for line in ours(node) if " rule " in line], "no address, no rule"
        assert bed.lab.agent("stop", interface=shared_iface, **SHARED).returncode == SUCCESS
        assert routing_state(node) == before
    finally:
        node.ns.run(["ip", "rule", "del", "from", VIP, "lookup", "4241"], check=False)
        node.ns.run(["ip", "rule", "del", "from", "192.0.2.9", "lookup", "4242"], check=False)
        node.ns.run(["ip", "route", "del", "blackhole", "192.0.2.0/24", "table", "4242"], check=False)


def test_shared_bridge_routes_an_address_added_without_a_prefix_route(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    """IPaddr2's noprefixroute=true, which the guide advises with arp_filter on OTHER: the main
    table has no route through the port, the port's table has its subnet all the same."""
    bed, node = shared_bridge, shared_bridge.nodes[0]
    assert bed.lab.agent("start", interface=shared_iface, **SHARED).returncode == SUCCESS
    node.ns.run(["ip", "addr", "add", f"{VIP}/{SUBNET_LEN}", "dev", shared_iface, "noprefixroute"])
    assert bed.lab.agent("monitor", interface=shared_iface, **SHARED).returncode == SUCCESS
    assert shared_iface not in node.ns.run(["ip", "route", "show", "table", "main"]).stdout
    assert f"203.0.113.0/24 dev {shared_iface}" in node.ns.run(["ip", "route", "show", "table", TABLE]).stdout
    seen = exchange(bed, node, shared_iface)
    assert seen["ARP reply for the address"] == seen["IPv4 from the address"] == {PORT_MAC}

def test_shared_bridge_a_table_someone_else_uses_is_refused_and_left_alone(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    node = shared_bridge.nodes[0]
    for theirs in (["rule", "add", "from", "192.0.2.7", "lookup", TABLE],
                   ["route", "add", "blackhole", "192.0.2.0/24", "table", TABLE, "protocol", "static"]):
        node.ns.run(["ip", *theirs])
        try:
            before = routing_state(node)
            for action in ("start", "validate-all"):
                result = shared_bridge.lab.agent(action, interface=shared_iface, **SHARED)
                assert result.returncode == ARGS, result.stderr
                assert f"ocf-exit-reason:Parameter route_table='{TABLE}': table {TABLE} is already used" in result.stderr
            assert not port_exists(shared_bridge.lab, shared_iface)
            assert shared_bridge.lab.agent("stop", interface=shared_iface, **SHARED).returncode == SUCCESS
            assert routing_state(node) == before, "theirs untouched, by start and by stop"
        finally:
            node.ns.run(["ip", theirs[0], "del", *theirs[2:]])


def test_shared_bridge_left_overs_of_a_crashed_start_are_removed_by_the_next_start(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    node = shared_bridge.nodes[0]
    tag = ["protocol", str(PROTOCOL)]
    ours_left = [["rule", "add", "from", "203.0.113.77", "lookup", TABLE, "priority", "32765", *tag],
                 ["route", "add", "blackhole", "198.18.0.0/15", "table", TABLE, *tag]]
    another_resource = ["rule", "add", "from", "203.0.113.78", "lookup", "4243", *tag]
    for argv in [*ours_left, another_resource]:
        node.ns.run(["ip", *argv])
    try:
        started = shared_bridge.lab.agent("start", interface=shared_iface, **SHARED)
        assert started.returncode == SUCCESS, started.stderr
        assert "removed rule from 203.0.113.77" in started.stderr and "removed route blackhole 198.18.0.0/15" in started.stderr
        assert ours(node) == []
        assert ours(node, "4243"), "another table's rule, even with our protocol, is not this resource's"
    finally:
        node.ns.run(["ip", "rule", "del", *another_resource[2:]])


def test_shared_bridge_table_by_name_and_unknown_names(shared_bridge: SharedBridge, shared_iface: str) -> None:
    lab, node = shared_bridge.lab, shared_bridge.nodes[0]
    lab.etc_file("iproute2/rt_tables", "255 local\n254 main\n0x1094 vipnet # 4244\n254 fake-main\n")
    named = {**SHARED, "route_table": "vipnet"}
    assert lab.agent("start", interface=shared_iface, **named).returncode == SUCCESS
    add_addresses(node, shared_iface)
    assert lab.agent("monitor", interface=shared_iface, **named).returncode == SUCCESS
    assert [line for line in ours(node, "4244") if " rule " in line], "vipnet is table 4244 here"
    assert lab.agent("stop", interface=shared_iface, **named).returncode == SUCCESS
    assert ours(node, "4244") == []

    unknown = {**SHARED, "route_table": "nosuchtable"}
    started = lab.agent("start", interface=shared_iface, **unknown)
    assert started.returncode == INSTALLED
    assert "ocf-exit-reason:Parameter route_table='nosuchtable': no rt_tables file defines it" in started.stderr
    assert lab.agent("monitor", interval_ms=0, interface=shared_iface, **unknown).returncode == NOT_RUNNING
    assert lab.agent("stop", interface=shared_iface, **unknown).returncode == SUCCESS
    kernels = lab.agent("start", interface=shared_iface, **{**SHARED, "route_table": "fake-main"})
    assert kernels.returncode == ARGS and "maps it to table 254, one of the kernel's own" in kernels.stderr


def test_shared_bridge_without_ip(shared_bridge: SharedBridge, shared_iface: str) -> None:
    """Only ovs-vsctl on the agent's PATH: 5 naming the program; a probe says stopped, stop succeeds."""
    lab = shared_bridge.lab
    bin_dir = lab.tmp / "bin-without-ip"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "ovs-vsctl").unlink(missing_ok=True)
    (bin_dir / "ovs-vsctl").symlink_to(shutil.which("ovs-vsctl"))
    env = lab.agent_env(interface=shared_iface, **SHARED) | {"PATH": str(bin_dir)}
    in_netns = [shutil.which("ip"), "netns", "exec", lab.ns.name, str(AGENT)]  # ip found on our PATH
    started = run([*in_netns, "start"], check=False, env=env)
    assert started.returncode == INSTALLED and "ocf-exit-reason:Program ip is not installed" in started.stderr
    probe = run([*in_netns, "monitor"], check=False, env=env | {"OCF_RESKEY_CRM_meta_interval": "0"})
    assert probe.returncode == NOT_RUNNING
    assert run([*in_netns, "stop"], check=False, env=env).returncode == SUCCESS


def test_shared_bridge_monitor_puts_settings_back_reports_refused_changes_and_warns_about_arp(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    lab, node = shared_bridge.lab, shared_bridge.nodes[0]
    assert lab.agent("start", interface=shared_iface, **SHARED).returncode == SUCCESS
    node.ns.run(["sysctl", "-qw", f"net.ipv4.conf.{shared_iface}.arp_ignore=0",
                 f"net.ipv6.conf.{shared_iface}.accept_ra=1"])
    node.ns.run(["sysctl", "-qw", f"net.ipv4.conf.{OTHER}.arp_filter=0"])
    try:
        add_addresses(node, shared_iface)
        monitored = lab.agent("monitor", interface=shared_iface, **SHARED)
        assert monitored.returncode == SUCCESS
        assert f"set again: net.ipv4.conf.{shared_iface}.arp_ignore: 0 -> 1" in monitored.stderr
        assert f"net.ipv6.conf.{shared_iface}.accept_ra: 1 -> 0" in monitored.stderr
        assert f"Interface {OTHER} is on 203.0.113.0/24 too and answers ARP" in monitored.stderr
    finally:
        node.ns.run(["sysctl", "-qw", f"net.ipv4.conf.{OTHER}.arp_filter=1"])
    assert node.ns.run(["sysctl", "-n", f"net.ipv4.conf.{shared_iface}.arp_ignore"]).stdout.strip() == "1"

    # Someone else's route where ours was: the monitor cannot put ours back (1) and says why.
    subnet = ["203.0.113.0/24", "dev", shared_iface, "table", TABLE]
    node.ns.run(["ip", "route", "del", *subnet, "protocol", str(PROTOCOL)])
    node.ns.run(["ip", "route", "add", *subnet, "protocol", "static"])
    refused = lab.agent("monitor", interface=shared_iface, **SHARED)
    assert refused.returncode == GENERIC
    assert f"ocf-exit-reason:Could not change the routing of {shared_iface} in table {TABLE}" in refused.stderr
    assert f"Table {TABLE} of {shared_iface} is used by what OVSPort did not add" in refused.stderr
    assert lab.agent("stop", interface=shared_iface, **SHARED).returncode == SUCCESS
    assert ours(node) == []


def monitor_modules(lab: PortLab, **params: str) -> tuple[int, set[str]]:
    """(exit code, top-level modules loaded) of a recurring monitor, run by the interpreter and
    flags of the script's #! line (test_ovndb_imports.py shows the method)."""
    flags = AGENT.read_text().splitlines()[0].removeprefix("#!").split()
    result = lab.ns.run([*flags, "-c", REPORT, str(AGENT), "monitor"], check=False, env=lab.agent_env(**params))
    words = result.stdout.split()
    assert words[:1] == ["rc"], result.stderr
    return int(words[1]), {name.partition(".")[0] for name in words[2:]}


def test_shared_bridge_monitor_imports_nothing_the_plain_monitor_does_not(
        shared_bridge: SharedBridge, shared_iface: str) -> None:
    lab, node = shared_bridge.lab, shared_bridge.nodes[0]
    assert lab.agent("start", interface=shared_iface, **SHARED).returncode == SUCCESS
    add_addresses(node, shared_iface)
    assert lab.agent("monitor", interface=shared_iface, **SHARED).returncode == SUCCESS
    rc_plain, plain = monitor_modules(lab, interface=shared_iface, mac=PORT_MAC)
    rc_shared, shared = monitor_modules(lab, interface=shared_iface, **SHARED)
    assert rc_plain == rc_shared == SUCCESS
    assert shared - plain == set()
    assert "ipaddress" not in shared and "socket" not in shared
