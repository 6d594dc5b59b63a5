"""The OVN control plane in a real 3-node lab running our agent: chassis running
ovn-controller, ovn-northd following the promoted node, VM ports bound through external_ids,
and what the drill's steps do to all of it.

The module brings the agents up once (its own Drill on the session's lab), then runs the
faults that concern the control plane: ovn-northd killed, the promoted node crashed (the
chassis's ovn-controllers were connected to it), a partition (never two ovn-northd). The
drill's other steps run with the same measurements in test_drill.py.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from lab_pool import LabPool, brought_up_drill, ocf_agents_cli

from ocf_agents.lab.chassis import INTEGRATION_BRIDGE, external_ids, sb_remote
from ocf_agents.lab.drill import Drill, StepResult, summary
from ocf_agents.lab.drill.binding import ProbePort, bind_port, working
from ocf_agents.lab.drill.probes import northd_pids
from ocf_agents.lab.layout import LAB_DIR
from ocf_agents.lab.nodes import init_pid
from ocf_agents.lab.proc import run
from ocf_agents.lab.writer import in_client_netns


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool) -> Iterator[Drill]:
    with brought_up_drill(lab_pool, 3) as drill:
        yield drill


def ovs(drill: Drill, chassis, *args: str) -> str:
    return drill.lab.run(chassis, ["ovs-vsctl", "--timeout=10", *args]).stdout.strip()


def test_every_chassis_runs_its_own_ovs_and_ovn_controller_and_no_cluster(drill: Drill) -> None:
    assert len(drill.lab.chassis) == 2
    for chassis in drill.lab.chassis:
        assert init_pid(chassis) is not None
        programs = drill.lab.run(chassis, ["ps", "-e", "-o", "comm="]).stdout.split()
        assert {"ovsdb-server", "ovs-vswitchd", "ovn-controller"} <= set(programs)
        assert not {"corosync", "pacemakerd"} & set(programs)
        # A /run of its own: a tmpfs without the lab's state directory (which the host's, or
        # the Debian 13 tier's root's, /run holds). Not findmnt: util-linux 2.41 (Debian 13)
        # lists both mounts stacked on /run there.
        assert drill.lab.run(chassis, ["stat", "-f", "-c", "%T", "/run"]).stdout.strip() \
            == "tmpfs"
        assert drill.lab.run(chassis, ["test", "-e", str(LAB_DIR)], check=False).rc == 1
        assert ovs(drill, chassis, "get", "bridge", INTEGRATION_BRIDGE, "datapath_type") == "netdev"
        for key, value in external_ids(chassis).items():
            assert ovs(drill, chassis, "get", "Open_vSwitch", ".",
                       f"external_ids:{key}").strip('"') == value


def test_lab_status_lists_the_chassis(drill: Drill) -> None:
    status = ocf_agents_cli("lab", "status").stdout
    for chassis in drill.lab.chassis:
        assert f"{chassis.name}" in status and chassis.address in status


def test_every_chassis_registered_through_the_southbound_vip_with_its_geneve_address(
        drill: Drill) -> None:
    out = run(in_client_netns(["ovn-sbctl", f"--db={sb_remote()}", "--timeout=5", "show"])).stdout
    for chassis in drill.lab.chassis:
        assert f"Chassis {chassis.name}" in out
        assert f'ip: "{chassis.address}"' in out


def test_ovn_northd_runs_on_the_promoted_node_only(drill: Drill) -> None:
    assert sorted(northd_pids(drill.lab)) == [drill.promoted().name]


def test_bring_up_bound_a_port_on_a_chassis_and_saw_northd_on_one_node(drill: Drill) -> None:
    bring_up = drill.results[0]
    assert bring_up.port_up is not None and bring_up.port_up > 0
    assert bring_up.northd.endswith("max 1")
    assert drill.control.bound and all(working(p) for p in drill.control.bound)


def test_the_probe_binds_a_port_the_way_the_integration_guide_says(drill: Drill) -> None:
    chassis = drill.lab.chassis[-1]
    port = ProbePort(900, chassis, f"{drill.control.prefix}-direct")
    seconds = bind_port(port, time.monotonic())
    assert 0 < seconds < 60
    assert ovs(drill, chassis, "get", "Interface", port.iface, "external_ids:iface-id") \
        .strip('"') == port.lsp
    assert ovs(drill, chassis, "get", "Interface", port.iface,
               "external_ids:attached-mac").strip('"') == port.mac
    assert ovs(drill, chassis, "get", "Interface", port.iface,
               "external_ids:iface-status") == "active"
    assert working(port)


@pytest.fixture(scope="module")
def killed_northd(drill: Drill) -> StepResult:
    return drill.step("kill-northd", drill.kill_northd)


def test_killed_ovn_northd_is_noticed_by_the_monitor_and_recovered(
        drill: Drill, killed_northd: StepResult) -> None:
    assert killed_northd.ok, killed_northd.outcome
    assert "ovndb_servers_monitor" in killed_northd.facts["failed"]
    assert killed_northd.timings["northd back"] >= killed_northd.timings["monitor failed"]
    assert killed_northd.port_up is not None  # a port created after the kill came up
    assert sorted(northd_pids(drill.lab)) == [drill.promoted().name]


@pytest.fixture(scope="module")
def crashed(drill: Drill, killed_northd) -> StepResult:
    return drill.step("crash-promoted", drill.crash_promoted)


def test_after_a_crash_the_chassis_reconnect_keep_their_bindings_and_bind_new_ports(
        drill: Drill, crashed: StepResult) -> None:
    """The chassis's ovn-controllers were connected to the crashed node (through the VIP):
    they are connected again, every port bound before the crash still is (on the same
    chassis, up), and a port created after the crash came up."""
    assert crashed.ok, crashed.outcome
    assert crashed.port_up is not None
    kept = crashed.facts["bindings kept"]
    assert kept.split("/")[0] == kept.split("/")[1] != "0"
    for chassis in drill.lab.chassis:
        status = drill.lab.run(chassis, ["ovn-appctl", "-t", "ovn-controller",
                                         "connection-status"], check=False)
        assert status.stdout.strip() == "connected", (chassis.name, status)
    assert sorted(northd_pids(drill.lab)) == [crashed.promoted_after]


def test_a_partition_never_runs_two_northd_at_once(drill: Drill, crashed) -> None:
    """The cut-off node's ovn-northd goes with the node when the majority fences it, before
    the majority promotes another node and starts its own: never two at once, even for a
    sample."""
    result = drill.step("partition", drill.partition)
    assert result.ok, result.outcome
    assert drill.control.sampler is not None and drill.control.sampler.max_running == 1
    assert result.port_up is not None
    assert sorted(northd_pids(drill.lab)) == [drill.promoted().name]


def test_the_summary_shows_northd_and_port_up_for_every_step(drill: Drill, crashed) -> None:
    text = summary(drill)
    for r in drill.results:
        assert f"northd {r.northd}; port up {r.port_up:.2f} s" in text, r.name
