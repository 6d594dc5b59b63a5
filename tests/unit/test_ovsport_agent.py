"""OVSPort's decisions, with ovs-vsctl and ip faked (pytest-subprocess).

Each faked situation is also produced for real in tests/integration/test_ovsport_ovs.py: a
port absent, on another bridge, with a drifted MAC, a bring-up that fails (ifup without a
stanza), an unreachable database.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ocf_agents.agents.ovsport import AGENT
from ocf_agents.net.names import derived_mac

MAC = "02:00:5e:10:00:01"
BASE = {
    "OCF_ROOT": "/usr/lib/ocf",
    "OCF_RESOURCE_INSTANCE": "vip-port",
    "OCF_RESKEY_CRM_meta_interval": "10000",
    "OCF_RESKEY_CRM_meta_timeout": "20000",
    "OCF_RESKEY_bridge": "br0",
    "OCF_RESKEY_interface": "vip0",
    "OCF_RESKEY_mac": MAC,
    "OCF_RESKEY_announce": "no",
    "HA_LOGFACILITY": "none",
}
IP_SHOW = ["ip", "-j", "addr", "show", "dev", "vip0"]
UNREACHABLE = "ovs-vsctl: unix:/run/openvswitch/db.sock: database connection failed (No such file or directory)\n"


def table(headings: list[str], rows: list[list]) -> str:
    return json.dumps({"data": rows, "headings": headings})


def port_query(bridge: str | None = "br0", error: str | None = None) -> str:
    """What `ovs-vsctl --format=json find Bridge/Port/Interface` prints for port vip0."""
    if bridge is None:
        return "\n".join([table(["name", "ports"], [["br0", ["uuid", "b0"]]]),
                          table(["_uuid", "tag", "vlan_mode"], []),
                          table(["type", "mac", "error", "external_ids"], [])]) + "\n"
    err = error if error is not None else ["set", []]
    return "\n".join([
        table(["name", "ports"], [[bridge, ["set", [["uuid", "b0"], ["uuid", "p1"]]]]]),
        table(["_uuid", "tag", "vlan_mode"], [[["uuid", "p1"], ["set", []], ["set", []]]]),
        table(["type", "mac", "error", "external_ids"], [["internal", MAC, err, ["map", []]]]),
    ]) + "\n"


def ip_addr(mac: str = MAC, up: bool = True) -> str:
    flags = ["BROADCAST", "MULTICAST"] + (["UP", "LOWER_UP"] if up else [])
    return json.dumps([{"ifname": "vip0", "flags": flags, "address": mac, "addr_info": []}])


@pytest.fixture
def agent(fp, monkeypatch, capsys):
    """Run the agent in-process as root; returns (rc, stderr)."""
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    def run(action: str, **params: str) -> tuple[int, str]:
        env = BASE | {k if k.startswith("OCF_") else f"OCF_RESKEY_{k}": v for k, v in params.items()}
        rc = AGENT.main(["OVSPort", action], env)
        return rc, capsys.readouterr().err

    return run


def vsctl(fp, *args) -> list:
    return ["ovs-vsctl", fp.any(min=1, max=2), *args]  # --timeout=N [--db=...]


def query(fp) -> list:
    return vsctl(fp, "--format=json", fp.any())


def test_monitor_says_stopped_when_ovs_has_no_such_port(fp, agent) -> None:
    fp.register(query(fp), stdout=port_query(bridge=None))
    assert agent("monitor") == (7, "")


def test_monitor_is_running_when_everything_matches(fp, agent) -> None:
    fp.register(query(fp), stdout=port_query())
    fp.register(IP_SHOW, stdout=ip_addr())
    assert agent("monitor")[0] == 0


@pytest.mark.parametrize(
    ("bridge", "link", "reason"),
    [
        ("br9", ip_addr(), "Port vip0 is on bridge br9, not on bridge br0"),
        ("br0", ip_addr(up=False), "Interface vip0 is down"),
        ("br0", ip_addr(mac="02:00:00:00:00:09"), "Interface vip0 has MAC address 02:00:00:00:00:09, not the configured " + MAC),
    ],
)
def test_monitor_fails_with_the_reason(fp, agent, bridge: str, link: str, reason: str) -> None:
    fp.register(query(fp), stdout=port_query(bridge))
    fp.register(IP_SHOW, stdout=link)
    rc, err = agent("monitor")
    assert rc == 1 and f"ocf-exit-reason:{reason}" in err


def test_monitor_reports_ovs_error_when_the_interface_is_missing(fp, agent) -> None:
    fp.register(query(fp), stdout=port_query(error="could not open network device vip0 (No such device)"))
    fp.register(IP_SHOW, returncode=1, stderr='Device "vip0" does not exist.\n')
    rc, err = agent("monitor")
    assert rc == 1 and "interface vip0 does not exist (Open vSwitch says: could not open" in err


def test_monitor_expects_the_derived_mac_when_none_is_configured(fp, agent) -> None:
    fp.register(query(fp), stdout=port_query())
    fp.register(IP_SHOW, stdout=ip_addr(mac=derived_mac("vip-port", "vip0")))
    assert agent("monitor", mac="")[0] == 0


def test_start_adds_the_port_in_one_transaction(fp, agent) -> None:
    fp.register(vsctl(fp, "br-exists", "br0"))
    fp.register(query(fp), stdout=port_query(bridge=None))
    fp.register(vsctl(fp, "--", fp.any()))
    fp.register(query(fp), stdout=port_query())
    fp.register(["ip", "link", "set", "dev", "vip0", "up"])
    fp.register(IP_SHOW, stdout=ip_addr())
    rc, _ = agent("start", tag="12", vlan_mode="access", iface_id="lsp:1", vm_id="vm 1")
    assert rc == 0
    (transaction,) = [c for c in fp.calls if "add-port" in c]
    assert list(transaction[transaction.index("--if-exists"):]) == [
        "--if-exists", "del-port", "br0", "vip0",
        "--", "add-port", "br0", "vip0", "tag=12", "vlan_mode=access",
        "--", "set", "Interface", "vip0", "type=internal", f'mac="{MAC}"',
        f'external_ids:attached-mac="{MAC}"', 'external_ids:iface-status="active"',
        'external_ids:iface-id="lsp:1"', 'external_ids:vm-id="vm 1"',
    ]


def test_a_start_whose_bring_up_fails_removes_the_port(fp, agent, monkeypatch) -> None:
    """ifup is faked, so the host need not have ifupdown (a Debian 13 root without it gave 5,
    "not installed", before the bring-up): the agent's check for the programs finds them."""
    monkeypatch.setattr(shutil, "which", lambda program: f"/usr/sbin/{program}")
    fp.register(vsctl(fp, "br-exists", "br0"))
    fp.register(query(fp), stdout=port_query(bridge=None))
    fp.register(vsctl(fp, "--", fp.any()))
    fp.register(query(fp), stdout=port_query())
    fp.register(["ifup", "vip0"], returncode=1, stderr="ifup: unknown interface vip0\n")
    fp.register(vsctl(fp, "--", "--if-exists", "del-port", "br0", "vip0"))
    rc, err = agent("start", bringup="ifupdown")
    assert rc == 1 and "unknown interface vip0" in err
    assert fp.call_count(vsctl(fp, "--", "--if-exists", "del-port", "br0", "vip0")) == 1


def test_start_on_a_missing_bridge_is_not_installed(fp, agent) -> None:
    fp.register(vsctl(fp, "br-exists", "br0"), returncode=2)
    rc, err = agent("start")
    assert rc == 5 and "ocf-exit-reason:Parameter bridge='br0': no such bridge" in err


@pytest.mark.parametrize(("link_rc", "expected"), [(1, 0), (0, 1)])
def test_stop_with_unreachable_ovs_succeeds_only_without_the_device(fp, agent, link_rc: int, expected: int) -> None:
    fp.register(query(fp), returncode=1, stderr=UNREACHABLE)
    fp.register(IP_SHOW, returncode=link_rc, stdout=ip_addr() if link_rc == 0 else "",
                stderr="" if link_rc == 0 else 'Device "vip0" does not exist.\n')
    assert agent("stop")[0] == expected


def test_stop_leaves_a_port_on_another_bridge_alone(fp, agent) -> None:
    fp.register(query(fp), stdout=port_query("br9"))
    assert agent("stop")[0] == 0
    assert not [c for c in fp.calls if "del-port" in c]


def test_ovsdb_parameter_becomes_the_db_option(fp, agent) -> None:
    fp.register(["ovs-vsctl", fp.any(min=1, max=1), "--db=unix:/tmp/x/db.sock", "--format=json", fp.any()],
                stdout=port_query(bridge=None))
    assert agent("monitor", ovsdb="unix:/tmp/x/db.sock")[0] == 7



def test_without_mac_or_resource_name_there_is_nothing_to_derive_from(fp, agent) -> None:
    fp.register(query(fp), stdout=port_query())
    fp.register(IP_SHOW, stdout=ip_addr())
    rc, err = agent("monitor", mac="", **{"OCF_RESOURCE_INSTANCE": ""})
    assert rc == 2 and "ocf-exit-reason:Parameter mac is empty and OCF_RESOURCE_INSTANCE is not set" in err


# -- route_table (source-based routing); for real in tests/integration/test_ovsport_ovs.py ----
OURS = {"priority": 32765, "src": "192.0.2.20", "table": "100", "protocol": "79"}
MAIN_V4 = [{"dst": "192.0.2.0/24", "dev": "br-ex", "protocol": "2", "scope": "253", "prefsrc": "192.0.2.2"},
           {"dst": "default", "gateway": "192.0.2.1", "dev": "br-ex"},
           {"dst": "10.0.0.0/8", "gateway": "198.51.100.1", "dev": "eth1"}]
VIP_ADDRESS = {"family": "inet", "local": "192.0.2.20", "prefixlen": 24, "scope": "global"}


def batch(rules: list = (), main: list = (), table: list = ()) -> str:
    """What ``ip -j -N -batch -`` prints for "rule show", "route show table main", "route show table N"."""
    return "".join(json.dumps(list(listing)) + "\n" for listing in (rules, main, table))


def routing_read(fp, v4: str = batch(), v6: str = batch()) -> None:
    fp.register(["ip", "-4", "-j", "-N", "-batch", "-"], stdout=v4)
    fp.register(["ip", "-6", "-j", "-N", "-batch", "-"], stdout=v6)


def ip_calls(fp, verb: str) -> list[list[str]]:
    return [list(c) for c in fp.calls if c[0] == "ip" and verb in c]


def test_start_refuses_a_table_another_rule_uses_and_adds_nothing(fp, agent) -> None:
    fp.register(vsctl(fp, "br-exists", "br0"))
    routing_read(fp, v4=batch(rules=[{"priority": 100, "src": "10.0.0.9", "table": "100"}]))
    rc, err = agent("start", route_table="100")
    assert rc == 2
    assert ("ocf-exit-reason:Parameter route_table='100': table 100 is already used on this host by what OVSPort "
            "did not add: rule from 10.0.0.9 lookup 100 priority 100 protocol 0") in err
    assert not [c for c in fp.calls if "add-port" in c] and not ip_calls(fp, "add") and not ip_calls(fp, "del")


def test_stop_removes_only_what_carries_our_protocol_in_our_table(fp, agent) -> None:
    theirs = [{"priority": 32000, "src": "192.0.2.20", "table": "101", "protocol": "79"},
              {"priority": 32000, "src": "192.0.2.21", "table": "100", "protocol": "4"}]
    our_route = {"dst": "192.0.2.0/24", "dev": "vip0", "protocol": "79", "scope": "253"}
    their_route = {"dst": "198.51.100.0/24", "dev": "eth1", "protocol": "4"}
    routing_read(fp, v4=batch(rules=[OURS, *theirs], table=[our_route, their_route]))
    fp.register(["ip", "-4", "rule", "del", fp.any()])
    fp.register(["ip", "-4", "route", "del", fp.any()])
    routing_read(fp, v4=batch(rules=theirs, table=[their_route]))
    fp.register(query(fp), stdout=port_query(bridge=None))
    assert agent("stop", route_table="100")[0] == 0
    assert ip_calls(fp, "del") == [
        ["ip", "-4", "rule", "del", "from", "192.0.2.20", "priority", "32765", "lookup", "100", "protocol", "79"],
        ["ip", "-4", "route", "del", "192.0.2.0/24", "dev", "vip0", "metric", "0", "table", "100", "protocol", "79"],
    ]


def test_stop_fails_when_a_rule_of_ours_stays(fp, agent) -> None:
    routing_read(fp, v4=batch(rules=[OURS]))
    fp.register(["ip", "-4", "rule", "del", fp.any()], returncode=2, stderr="RTNETLINK answers: Operation not permitted\n")
    routing_read(fp, v4=batch(rules=[OURS]))
    rc, err = agent("stop", route_table="100")
    assert rc == 1 and "Could not remove from table 100: rule from 192.0.2.20" in err and "not permitted" in err


def running_port_with_the_address(fp) -> None:
    fp.register(query(fp), stdout=port_query())
    link = json.loads(ip_addr())
    link[0]["addr_info"] = [VIP_ADDRESS]
    fp.register(IP_SHOW, stdout=json.dumps(link))


def test_recurring_monitor_routes_an_address_added_since_start(fp, agent) -> None:
    running_port_with_the_address(fp)
    routing_read(fp, v4=batch(main=MAIN_V4))
    for _ in range(3):  # two routes and the rule
        fp.register(["ip", "-4", fp.any(min=1, max=1), "add", fp.any()])
    rc, err = agent("monitor", route_table="100")
    assert rc == 0
    assert ip_calls(fp, "add") == [
        ["ip", "-4", "route", "add", "192.0.2.0/24", "dev", "vip0", "metric", "0", "table", "100", "protocol", "79"],
        ["ip", "-4", "route", "add", "default", "via", "192.0.2.1", "dev", "vip0", "metric", "0", "table", "100",
         "protocol", "79"],
        ["ip", "-4", "rule", "add", "from", "192.0.2.20", "priority", "32765", "lookup", "100", "protocol", "79"],
    ]
    assert "Routing of vip0: added rule from 192.0.2.20 lookup 100" in err


def test_a_probe_reads_and_changes_no_routing(fp, agent) -> None:
    running_port_with_the_address(fp)
    assert agent("monitor", route_table="100", OCF_RESKEY_CRM_meta_interval="0")[0] == 0
    assert not ip_calls(fp, "-batch")


def test_monitor_fails_when_ip_refuses_a_change(fp, agent) -> None:
    running_port_with_the_address(fp)
    routing_read(fp, v4=batch(main=MAIN_V4))
    fp.register(["ip", "-4", "route", "add", fp.any()], returncode=2, stderr="RTNETLINK answers: File exists\n")
    rc, err = agent("monitor", route_table="100")
    assert rc == 1
    assert ("ocf-exit-reason:Could not change the routing of vip0 in table 100 (to add route 192.0.2.0/24 dev vip0 "
            "metric 0)") in err and "File exists" in err


def test_an_unknown_table_name_is_this_hosts_problem(fp, agent) -> None:
    rc, err = agent("monitor", route_table="ocfa-no-such-table")
    assert rc == 5 and "ocf-exit-reason:Parameter route_table='ocfa-no-such-table': no rt_tables file defines it" in err
    assert agent("monitor", route_table="ocfa-no-such-table", OCF_RESKEY_CRM_meta_interval="0")[0] == 7
    assert agent("stop", route_table="ocfa-no-such-table")[0] == 0
    assert not fp.calls


@pytest.mark.parametrize(("param", "value"), [("route_table", "254"), ("route_table", "main"),
                                              ("rule_priority", "0"), ("rule_priority", "32766")])
def test_bad_routing_values_are_configuration_errors(fp, agent, param: str, value: str) -> None:
    rc, err = agent("start", **{"route_table": "100", param: value})
    assert rc == 6 and f"ocf-exit-reason:Parameter {param}={value!r} is invalid" in err
