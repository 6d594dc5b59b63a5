"""``ocf-agents setup --apply --cib``, for real, checked by Pacemaker's own tools.

pcs 0.11 applies the commands to a fresh CIB file; crm_verify checks it; crm_simulate places
the resources with the promotion scores the agent would set; crmsh loads the crm rendering
of the same setup into another CIB, and both CIBs must describe the same configuration.
Nothing here contacts the addresses (192.0.2.0/24, 2001:db8::/32): they are only written.
"""

from __future__ import annotations

import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .helpers import empty_cib, setup_cli
from .sim import only_node, promoted_node, set_promotion_scores, simulate

PRIMITIVE, CLONE, VIP = "ovndb_servers", "ovndb_servers-clone", "ovndb_servers-vip"
# Meta attributes at Pacemaker's default, which one tool writes and the other leaves implicit.
PACEMAKER_DEFAULTS = {("interleave", "false")}
PORT_GROUP = "vip0-port-group"
PORT_MEMBERS = ("vip0-port", "vip0-port-ip", "vip0-port-ip6")


def ovndb_args(provider: str) -> tuple[str, ...]:
    return ("ovndb", "--master-ip", "192.0.2.10", "--vip-netmask", "24", "--provider", provider)


def port_args(provider: str, *extra: str) -> tuple[str, ...]:
    return ("port", "--bridge", "br-ex", "--interface", "vip0", "--ip", "192.0.2.20",
            "--ip6", "2001:db8::20", "--provider", provider, *extra)


@pytest.fixture(scope="module")
def configured(tmp_path_factory, installed_agents) -> Path:
    """A CIB holding the ovndb setup and a port group that follows the promoted instance,
    applied by pcs (version found by running pcs --version)."""
    cib = empty_cib(tmp_path_factory.mktemp("configured") / "cib.xml")
    for args in (ovndb_args(installed_agents), port_args(installed_agents, "--with-promoted", CLONE)):
        result = setup_cli(*args, "--apply", "--cib", str(cib))
        assert result.rc == 0, result.err
    return cib


@pytest.fixture(scope="module")
def port_only(tmp_path_factory, installed_agents) -> Path:
    cib = empty_cib(tmp_path_factory.mktemp("port") / "cib.xml")
    result = setup_cli(*port_args(installed_agents), "--apply", "--cib", str(cib))
    assert result.rc == 0, result.err
    return cib


def test_applied_cib_passes_crm_verify(configured: Path) -> None:
    result = subprocess.run(["crm_verify", "-x", str(configured), "-V"], capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_applied_commands_use_the_installed_pcs_syntax(configured: Path) -> None:
    colocation = ET.parse(configured).find(f".//rsc_colocation[@id='{VIP}-with-{CLONE}']")
    assert colocation is not None
    assert (colocation.get("rsc"), colocation.get("with-rsc"), colocation.get("with-rsc-role"),
            colocation.get("score")) == (VIP, CLONE, "Promoted", "INFINITY")
    order = ET.parse(configured).find(f".//rsc_order[@id='{VIP}-after-{CLONE}']")
    assert order is not None
    assert (order.get("first"), order.get("first-action"), order.get("then"), order.get("then-action")) == (
        CLONE, "promote", VIP, "start")


def test_applying_again_changes_nothing(configured: Path, installed_agents: str) -> None:
    before = configured.read_bytes()
    for args in (ovndb_args(installed_agents), port_args(installed_agents, "--with-promoted", CLONE)):
        result = setup_cli(*args, "--apply", "--cib", str(configured))
        assert result.rc == 0, result.err
        assert "nothing to do" in result.out
        assert "+ pcs" not in result.out
    assert configured.read_bytes() == before


def test_applying_a_changed_setup_is_refused(configured: Path, installed_agents: str) -> None:
    before = configured.read_bytes()
    result = setup_cli("ovndb", "--master-ip", "192.0.2.11", "--vip-netmask", "24", "--provider",
                       installed_agents, "--apply", "--cib", str(configured))
    assert result.rc == 2
    assert "master_ip='192.0.2.10' where this setup has master_ip='192.0.2.11'" in result.err
    assert configured.read_bytes() == before


@pytest.mark.parametrize("nodes", [2, 3])
def test_vip_and_port_follow_the_promoted_instance(configured: Path, tmp_path: Path, nodes: int) -> None:
    names = [f"node{i}" for i in range(1, nodes + 1)]
    up = [arg for name in names for arg in ("-u", name)]
    state = simulate(configured, tmp_path / "up.xml", *up, "-q", "1")
    # node2 has the freshest data: it is promoted, not node1
    set_promotion_scores(state, PRIMITIVE, {name: 5 for name in names} | {"node2": 10})
    state = simulate(state, tmp_path / "promoted.xml")
    assert promoted_node(state, CLONE) == "node2"
    assert only_node(state, VIP) == "node2"
    assert {only_node(state, m) for m in PORT_MEMBERS} == {"node2"}

    failed = simulate(state, tmp_path / "failed.xml", "-f", "node2")
    survivor = promoted_node(failed, CLONE)
    assert survivor != "node2"
    assert only_node(failed, VIP) == survivor
    assert {only_node(failed, m) for m in PORT_MEMBERS} == {survivor}


def test_port_group_members_move_together(port_only: Path, tmp_path: Path) -> None:
    state = simulate(port_only, tmp_path / "up.xml", "-u", "node1", "-u", "node2", "-q", "1")
    first = only_node(state, PORT_GROUP)
    assert {only_node(state, m) for m in PORT_MEMBERS} == {first}
    failed = simulate(state, tmp_path / "failed.xml", "-f", first)
    second = only_node(failed, PORT_GROUP)
    assert second != first
    assert {only_node(failed, m) for m in PORT_MEMBERS} == {second}


def test_crmsh_rendering_gives_the_same_configuration(configured: Path, installed_agents: str,
                                                     tmp_path: Path) -> None:
    cib = empty_cib(tmp_path / "crm.xml")
    for args in (ovndb_args(installed_agents), port_args(installed_agents, "--with-promoted", CLONE)):
        rendered = setup_cli(*args, "--format", "crm", "--cib", str(cib))
        assert rendered.rc == 0, rendered.err
        for line in rendered.commands:
            subprocess.run(shlex.split(line), check=True, capture_output=True, timeout=120)
    assert normalized(cib) == normalized(configured)


def test_failed_command_leaves_the_cib_untouched(tmp_path: Path, installed_agents: str) -> None:
    cib = empty_cib(tmp_path / "cib.xml")
    before = cib.read_bytes()
    result = setup_cli("port", "--bridge", "br-ex", "--interface", "vip1", "--ip", "192.0.2.21",
                       "--provider", installed_agents, "--with-promoted", "no-such-clone",
                       "--apply", "--cib", str(cib))
    assert result.rc == 1
    assert result.out.count("+ pcs") == 3  # two members created, then the colocation failed
    assert f"pcs -f {cib} constraint colocation add vip1-port-group with Promoted no-such-clone" in result.err
    assert "no-such-clone" in result.err.split("pcs said:")[1]
    assert cib.read_bytes() == before


def normalized(cib: Path) -> dict:
    """Resources and constraints as the cluster sees them, without generated ids, defaults that
    one tool writes and the other leaves implicit, or the start/stop/... timeouts pcs copies
    from the agent's meta-data (recurring monitors are compared)."""
    config = ET.parse(cib).getroot().find("configuration")
    assert config is not None
    resources = {}
    for container in config.find("resources") or ():
        for element in [container, *container.iter()]:
            if element.tag not in ("primitive", "clone", "group"):
                continue
            params = {nv.get("name"): nv.get("value") for nv in element.findall("instance_attributes/nvpair")}
            meta = {nv.get("name"): nv.get("value") for nv in element.findall("meta_attributes/nvpair")
                    if (nv.get("name"), nv.get("value")) not in PACEMAKER_DEFAULTS}
            monitors = sorted((op.get("name"), op.get("interval"), op.get("role"))
                              for op in element.findall("operations/op") if op.get("interval") not in ("0", "0s"))
            members = [child.get("id") for child in element if child.tag == "primitive"]
            agent = (element.get("class"), element.get("provider"), element.get("type"))
            resources[element.get("id")] = (element.tag, agent, params, meta, monitors, members)
    constraints = {}
    for constraint in config.find("constraints") or ():
        attrs = dict(constraint.attrib)
        attrs.setdefault("kind", "Mandatory") if constraint.tag == "rsc_order" else attrs.setdefault("rsc-role", "Started")
        constraints[attrs.pop("id")] = (constraint.tag, attrs)
    return {"resources": resources, "constraints": constraints}


def test_live_path_fetches_changes_and_pushes_the_cib(tmp_path: Path, installed_agents: str, monkeypatch) -> None:
    """Without --cib: pcs cluster cib, pcs -f on the copy, pcs cluster cib-push diff-against.
    CIB_file points every CIB client (cibadmin under pcs too) at a file instead of the
    cluster's CIB manager: the same pcs commands, for real, with no cluster running."""
    live = empty_cib(tmp_path / "live.xml")
    monkeypatch.setenv("CIB_file", str(live))
    args = ("port", "--bridge", "br-ex", "--interface", "vip2", "--ip", "192.0.2.22", "--provider", installed_agents)
    first = setup_cli(*args, "--apply")
    assert first.rc == 0, first.err
    assert "pushed 2 change(s) to the cluster" in first.out
    group = ET.parse(live).find(".//group[@id='vip2-port-group']")
    assert group is not None
    assert [p.get("id") for p in group.iter("primitive")] == ["vip2-port", "vip2-port-ip"]
    before = live.read_bytes()
    again = setup_cli(*args, "--apply")
    assert again.rc == 0, again.err
    assert "nothing to do" in again.out
    assert live.read_bytes() == before
