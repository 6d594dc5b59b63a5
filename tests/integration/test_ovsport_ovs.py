"""OVSPort against a real Open vSwitch (userspace datapath) inside a network namespace.

Each test checks with ``ovs-vsctl`` and ``ip`` what the agent did, and uses its own interface
name; the fixture (tests/integration/ovs_netns.py) removes every namespace and process.
"""

from __future__ import annotations

import json

import pytest
from ovs_netns import BRIDGE, OTHER_BRIDGE, RESOURCE, PortLab, port_lab  # noqa: F401 (fixture)

from ocf_agents.net.names import derived_mac

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
