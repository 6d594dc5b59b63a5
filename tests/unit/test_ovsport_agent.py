"""OVSPort's decisions, with ovs-vsctl and ip faked (pytest-subprocess).

Each faked situation is also produced for real in tests/integration/test_ovsport_ovs.py: a
port absent, on another bridge, with a drifted MAC, a bring-up that fails (ifup without a
stanza), an unreachable database.
"""

from __future__ import annotations

import json
import os

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


def test_a_start_whose_bring_up_fails_removes_the_port(fp, agent) -> None:
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
