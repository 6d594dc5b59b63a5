"""The control plane's pure logic, without a lab: the chassis's layout and boot plan, the
probe port's names, reading ovn-nbctl's and ovn-sbctl's answers, the northd summary cell.

All of it also runs for real in test_chassis.py.
"""

from __future__ import annotations

import pytest

from ocf_agents.lab import agents, layout
from ocf_agents.lab import lab as lab_mod
from ocf_agents.lab.chassis import Chassis, all_chassis, boot_plan, external_ids
from ocf_agents.lab.drill import StepResult, resources, samplers
from ocf_agents.lab.drill.binding import (DOWN, MISSING, UNKNOWN, UP, ProbePort, parse_bound,
                                          parse_up)
from ocf_agents.lab.drill.results import cluster
from ocf_agents.lab.layout import Node, nodes

from test_lab_agents_logic import setup_printed

IFNAMSIZ = 15


def test_chassis_addresses_and_names_are_the_labs_and_clash_with_nothing() -> None:
    taken = {n.address for n in nodes(layout.MAX_NODES)} | {
        layout.OVNDB_VIP, layout.PORT_VIP, layout.NOWHERE, layout.CLIENT_ADDRESS}
    chassis = all_chassis(9)
    addresses = {c.address for c in chassis}
    assert len(addresses) == 9 and not addresses & taken
    assert all(a.startswith(layout.SUBNET_PREFIX) for a in addresses)
    for c in chassis:
        assert c.netns.startswith(layout.PREFIX) and c.host_link.startswith(layout.LINK_PREFIX)
        assert len(c.host_link) <= IFNAMSIZ
    assert Chassis(1) != Node(1) and Chassis(1).dir != Node(1).dir


@pytest.mark.parametrize("count", [-1, 10])
def test_a_chassis_count_out_of_range_is_refused_before_anything_is_made(count: int) -> None:
    """``lab up --chassis N``: refused with the option and the value in one line, before the
    lab checks the host or looks for a lab already up (so it says the same with one up)."""
    with pytest.raises(layout.LabError, match=rf"^--chassis must be 0 to 9, not {count}$"):
        lab_mod.up(3, chassis_count=count, say=lambda _: None)


def test_a_chassis_is_registered_as_the_integration_guide_says() -> None:
    ids = external_ids(Chassis(2))
    assert ids == {"system-id": "chassis2", "ovn-remote": "tcp:10.99.0.10:6642",
                   "ovn-encap-type": "geneve", "ovn-encap-ip": "10.99.0.32",
                   "ovn-bridge": "br-int"}


def test_a_chassis_boots_ovs_then_a_netdev_br_int_then_ovn_controller_and_no_cluster() -> None:
    steps = boot_plan(Chassis(1))["steps"]
    argvs = [argv for _, argv, *_ in steps]
    programs = [argv[0] for kind, argv, *_ in steps if kind == "spawn"]
    assert programs == ["ovsdb-server", "ovs-vswitchd", "ovn-controller"]
    bridge = next(i for i, argv in enumerate(argvs) if "br-int" in argv)
    assert "datapath_type=netdev" in argvs[bridge]
    assert bridge < next(i for i, argv in enumerate(argvs) if argv[0] == "ovn-controller")
    assert "external_ids:ovn-encap-ip=10.99.0.31" in argvs[bridge]
    binds = [target for _, target in boot_plan(Chassis(1))["binds"]]
    assert "/etc/openvswitch" in binds and "/var/lib/pacemaker" not in binds


def test_both_agents_run_the_database_role_with_ovn_northd() -> None:
    for agent in (agents.OURS, agents.OVN):
        assert "manage_northd=yes" in setup_printed(
            resources.ovndb_setup_argv(agent, "ovshalab"))


def test_probe_ports_have_short_unique_interfaces_and_unicast_local_macs() -> None:
    ports = [ProbePort(seq, Chassis(1), "drill1764765000") for seq in (1, 2, 300, 70000)]
    assert len({p.iface for p in ports}) == len({p.mac for p in ports}) == len(ports)
    assert all(len(p.iface) <= IFNAMSIZ for p in ports)
    assert ProbePort(1, Chassis(1), "drill1").iface != ProbePort(1, Chassis(1), "drill2").iface
    for p in ports:
        first = int(p.mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01  # locally administered, unicast
    assert ports[2].ip == "172.31.1.51" and ports[0].lsp == "drill1764765000-vm1"


@pytest.mark.parametrize("ok, stdout, state", [
    (True, "true\n", UP), (True, "\n", DOWN), (True, "false\n", DOWN), (True, "", MISSING),
    (False, "", UNKNOWN),
])
def test_the_northbound_up_column_read(ok: bool, stdout: str, state: str) -> None:
    """``find`` prints one line per matching port: an unset ``up`` is an empty line (not up
    yet), no line is no such port (lost: create it again), a failed call knows nothing."""
    assert parse_up(ok, stdout) == state


CHASSIS_ROW = "225b3136-51f1-4002-a4f6-b9aa1cc23adb"


@pytest.mark.parametrize("ok, stdout, bound", [
    (True, f"{CHASSIS_ROW}\n\n{CHASSIS_ROW}\n", True),  # as ovn-sbctl 23.03 prints it
    (True, f"{CHASSIS_ROW}\n\n", False),  # no chassis claimed the binding yet (or no row)
    (True, f"{CHASSIS_ROW}\n\nffffffff-51f1-4002-a4f6-b9aa1cc23adb\n", False),  # another
    (True, f"\n{CHASSIS_ROW}\n", False),  # the chassis is not registered
    (True, "\n", False),
    (False, f"{CHASSIS_ROW}\n\n{CHASSIS_ROW}\n", False),
])
def test_the_southbound_binding_read(ok: bool, stdout: str, bound: bool) -> None:
    assert parse_bound(ok, stdout) is bound


def test_the_summary_shows_where_northd_ran_and_when_the_new_port_came_up() -> None:
    result = StepResult("crash-promoted", True, "ok")
    result.northd, result.port_up = "61/70 max 1", 7.254
    assert cluster(result) == "fenced -; northd 61/70 max 1; port up 7.25 s"
    assert cluster(StepResult("x")).endswith("port up -")


class FakeLab:
    """What NorthdSampler asks of a lab: its nodes by name and which are cut off."""

    def __init__(self, cut_off: set[str]) -> None:
        self.cut_off = cut_off

    def node(self, name: str) -> Node:
        return Node(int(name[-1]))

    def is_cut_off(self, node: Node) -> bool:
        return node.name in self.cut_off


def test_the_northd_sampler_counts_one_on_the_promoted_node_none_and_two(monkeypatch) -> None:
    """Samples of a partition: node1 promoted, a hand-over with none, node2 started while the
    cut-off node1 still runs its own, then node2 alone (with the VIP)."""
    seen = iter([{"node1": [11]}, {}, {"node1": [11], "node2": [22]}, {"node2": [22]}])
    monkeypatch.setattr(samplers, "northd_pids", lambda lab: next(seen))
    monkeypatch.setattr(samplers, "holds_address", lambda node, address: True)
    sampler = samplers.NorthdSampler(FakeLab(cut_off={"node1"}))
    for _ in range(4):
        sampler.sample()
    assert (sampler.samples, sampler.on_promoted, sampler.none) == (4, 2, 1)
    assert (sampler.max_running, sampler.max_reachable, sampler.overlap) == (2, 1, "node2")
    assert sampler.describe() == "2/4 max 2"


def test_northd_elsewhere_than_the_vip_is_not_on_the_promoted_node(monkeypatch) -> None:
    monkeypatch.setattr(samplers, "northd_pids", lambda lab: {"node3": [33]})
    monkeypatch.setattr(samplers, "holds_address", lambda node, address: False)
    sampler = samplers.NorthdSampler(FakeLab(cut_off=set()))
    sampler.sample()
    assert (sampler.on_promoted, sampler.max_reachable) == (0, 1)
