"""Rendered commands for each pcs syntax and for crmsh, compared with golden files.

The golden files are what an operator pastes; regenerate them after a deliberate change with
``UPDATE_GOLDEN=1`` and review the diff. pcs 0.11's output is also run for real
(test_offline.py); 0.9 and 0.10 cannot run here (Debian 12 has pcs 0.11), so their syntax is
pinned by these files, written from pcs's changelog and documentation.
"""

from __future__ import annotations

import os
import shlex

import pytest

from .helpers import REPO, setup_cli

GOLDEN = REPO / "tests" / "setup" / "golden"
FORMATS = {
    "pcs-0.9": ("--pcs-version", "0.9.169"),
    "pcs-0.10": ("--pcs-version", "0.10.8"),
    "pcs-0.11": ("--pcs-version", "0.11.5"),
    "crm": ("--format", "crm"),
}
CASES = {
    "ovndb": ("ovndb", "--master-ip", "192.0.2.10", "--vip-netmask", "24", "--vip-nic", "eth1"),
    "ovndb-ovn-ssl": (
        "ovndb", "--provider", "ovn", "--master-ip", "2001:db8::10", "--vip-netmask", "64",
        "--ssl", "--nb-privkey", "/etc/ovn/nb-key.pem", "--nb-cert", "/etc/ovn/nb-cert.pem",
        "--nb-cacert", "/etc/ovn/ca.pem", "--sb-privkey", "/etc/ovn/sb-key.pem",
        "--sb-cert", "/etc/ovn/sb-cert.pem", "--sb-cacert", "/etc/ovn/ca.pem",
        "--manage-northd", "--inactive-probe-interval", "30000",
        "--inactive-probe-interval-to-master", "90000", "--param", "ovn_ctl=/usr/bin/ovn-ctl",
    ),
    "ovndb-lb": ("ovndb", "--master-ip", "10.99.0.100", "--load-balancer", "--name", "ovsdb",
                 "--monitor-interval", "20", "--promoted-monitor-interval", "9s"),
    "port": ("port", "--bridge", "br-ex", "--interface", "ovsvip0", "--ip", "192.0.2.20",
             "--ip6", "2001:db8::20", "--with-promoted", "ovndb_servers-clone"),
    "port-vlan": ("port", "--bridge", "br-int", "--interface", "vip-7", "--ip", "10.99.0.7",
                  "--netmask", "25", "--mac", "02:00:5e:00:00:07", "--param", "tag=7",
                  "--name", "vip7", "--group-name", "vip7-grp", "--monitor-interval", "5"),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_rendered_commands_match_golden_file(case: str, fmt: str) -> None:
    result = setup_cli(*CASES[case], *FORMATS[fmt])
    assert result.rc == 0, result.err
    golden = GOLDEN / f"{case}.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(result.out)
    assert result.out == golden.read_text()


def test_pcs_0_10_before_0_10_7_uses_the_default_clone_name() -> None:
    result = setup_cli(*CASES["ovndb"], "--pcs-version", "0.10.6")
    first = shlex.split(result.commands[0])
    assert result.rc == 0
    assert first[-2:] == ["promotable", "notify=false"]


def test_pcs_0_10_before_0_10_7_cannot_name_the_clone() -> None:
    result = setup_cli(*CASES["ovndb"], "--clone-name", "ovn-dbs", "--pcs-version", "0.10.6")
    assert result.rc == 2
    assert "0.10.7" in result.err and "ovndb_servers-clone" in result.err


def test_cib_file_is_named_in_every_printed_command() -> None:
    pcs = setup_cli(*CASES["port"], "--pcs-version", "0.11", "--cib", "/tmp/my cib.xml")
    crm = setup_cli(*CASES["port"], "--format", "crm", "--cib", "/tmp/my cib.xml")
    assert all(shlex.split(line)[:3] == ["pcs", "-f", "/tmp/my cib.xml"] for line in pcs.commands)
    assert all(shlex.split(line)[:3] == ["env", "CIB_file=/tmp/my cib.xml", "crm"] for line in crm.commands)


def test_force_is_added_to_resource_creation_only() -> None:
    lines = [shlex.split(x) for x in setup_cli(*CASES["ovndb"], "--pcs-version", "0.11", "--force").commands]
    assert [("--force" in argv) for argv in lines] == [True, True, False, False]


def test_setup_writes_the_monitor_intervals_the_meta_data_advertises():
    from ocf_agents.agents.ovndb.metadata import METADATA
    from ocf_agents.setup.build import OvndbOptions

    advertised = {a.role: a.interval for a in METADATA.actions if a.name == "monitor"}
    options = OvndbOptions(master_ip="192.0.2.10")
    assert advertised == {"Promoted": int(options.promoted_monitor_interval), "Unpromoted": int(options.monitor_interval)}
