"""Whether an address is this host's own (ocf_agents.net.route.address_is_local), asked of a
real kernel in a namespace the test creates: the addresses a node running ovndb-servers has.

The case that matters is the VIP: IPaddr2 adds it beside the node's own address, in the same
subnet, on the same interface. The kernel's route to such an IPv4 address is local, with the
first address as its source; the check once compared that source with the address and called
the node's own VIP foreign (a backup could then be pointed at itself, turning it active).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Iterator

import pytest
from ovs_netns import Namespace

REPO = Path(__file__).resolve().parents[2]
LINK, PEER = "vip0", "vip1"  # a veth pair, both ends in the namespace: a link that is up
PRIMARY, VIP, ELSEWHERE, BROADCAST = "10.99.0.2", "10.99.0.10", "10.99.0.77", "10.99.0.255"
PRIMARY6, VIP6, TENTATIVE6, ELSEWHERE6 = "fd99::2", "fd99::10", "fd99::20", "fd99::77"
PREFIX, PREFIX6 = 24, 64


@pytest.fixture(scope="module")
def node() -> Iterator[Namespace]:
    """A namespace holding a primary address and a VIP beside it, both families, with
    ip_nonlocal_bind on (it must not make the other addresses of the subnet look local)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace")
    ns = Namespace.create("ocfa-route-")
    try:
        ns.run(["ip", "link", "add", LINK, "type", "veth", "peer", "name", PEER])
        for dev in (LINK, PEER):
            ns.run(["ip", "link", "set", dev, "up"])
        for address in (PRIMARY, VIP):  # in this order: PRIMARY is the primary address
            ns.run(["ip", "addr", "add", f"{address}/{PREFIX}", "dev", LINK])
        for address in (PRIMARY6, VIP6):
            ns.run(["ip", "-6", "addr", "add", f"{address}/{PREFIX6}", "dev", LINK, "nodad"])
        ns.run(["sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1", "net.ipv6.ip_nonlocal_bind=1"])
        yield ns
    finally:
        ns.delete()


def local_in(ns: Namespace, addresses: list[str]) -> dict[str, bool]:
    """address_is_local of each address, asked by a Python inside ``ns``."""
    code = ("import json, sys; from ocf_agents.net import route; "
            "print(json.dumps({ip: route.address_is_local(ip) for ip in sys.argv[1:]}))")
    env_argv = ["env", f"PYTHONPATH={REPO}", sys.executable, "-c", code, *addresses]
    return json.loads(ns.run(env_argv).stdout)


def test_a_vip_beside_the_primary_address_is_this_hosts_though_the_kernel_sends_from_the_primary(node):
    # The premise: the route to the VIP is local, and its source the primary address.
    assert node.run(["ip", "route", "get", VIP]).stdout.startswith(f"local {VIP} dev lo src {PRIMARY} ")
    assert local_in(node, [PRIMARY, VIP, PRIMARY6, VIP6]) == dict.fromkeys([PRIMARY, VIP, PRIMARY6, VIP6], True)


def test_loopback_addresses_are_this_hosts(node):
    assert local_in(node, ["127.0.0.1", "127.0.10.9", "::1"]) == dict.fromkeys(["127.0.0.1", "127.0.10.9", "::1"], True)


def test_addresses_this_host_only_routes_to_are_not_its_own_even_with_ip_nonlocal_bind(node):
    assert node.run(["sysctl", "-n", "net.ipv4.ip_nonlocal_bind"]).stdout.strip() == "1"
    others = [ELSEWHERE, BROADCAST, "198.51.100.7", ELSEWHERE6, "2001:db8::7", "node1"]
    assert local_in(node, others) == dict.fromkeys(others, False)


def test_an_ipv6_address_in_duplicate_address_detection_is_not_this_hosts_yet(node):
    node.run(["sysctl", "-qw", f"net.ipv6.conf.{LINK}.dad_transmits=60"])  # a minute: no race with the check
    node.run(["ip", "-6", "addr", "add", f"{TENTATIVE6}/{PREFIX6}", "dev", LINK])
    try:
        assert "tentative" in node.run(["ip", "-6", "addr", "show", "dev", LINK, "to", TENTATIVE6]).stdout
        assert local_in(node, [TENTATIVE6]) == {TENTATIVE6: False}
    finally:
        node.run(["ip", "-6", "addr", "del", f"{TENTATIVE6}/{PREFIX6}", "dev", LINK])


def test_the_device_holding_the_vip_is_found_with_its_mac_address(node):
    """Links.holding: the device and its MAC, which ``ip addr show to`` alone leaves out (the
    frames announcing master_ip were built with an empty source MAC and never left a node)."""
    code = ("import json, sys; from ocf_agents.net.link import Links; from ocf_agents.ocf.run import Budget, Runner; "
            "from ocf_agents.ocf.log import Logger; links = Links(Runner(Budget(10), Logger({}, 'test'))); "
            "print(json.dumps({ip: [l.name, l.mac] if (l := links.holding(ip)) else None for ip in sys.argv[1:]}))")
    found = json.loads(node.run(["env", f"PYTHONPATH={REPO}", sys.executable, "-c", code, VIP, VIP6, ELSEWHERE]).stdout)
    mac = json.loads(node.run(["ip", "-j", "link", "show", LINK]).stdout)[0]["address"]
    assert found == {VIP: [LINK, mac], VIP6: [LINK, mac], ELSEWHERE: None}
