"""Bad parameters: the right exit code and an exit reason naming the parameter and value.

The real agent script runs (no database server is needed: validation comes first), with the
invalid-environment rules of the library: a probe says "not running" and stop succeeds.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[2] / "heartbeat" / "ovndb-servers"
GOOD = {"master_ip": "127.0.10.200"}


def run(action: str, interval: str = "10000", **params: str) -> tuple[int, str]:
    env = {"PATH": os.environ["PATH"], "OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "ovndb:0",
           "OCF_RESKEY_CRM_meta_interval": interval, "OCF_RESKEY_CRM_meta_timeout": "10000",
           "HA_LOGFACILITY": "none", "CIB_file": "/nonexistent/cib.xml"}
    env.update({f"OCF_RESKEY_{k}": v for k, v in {**GOOD, **params}.items()})
    proc = subprocess.run([str(AGENT), action], env=env, capture_output=True, text=True, timeout=30)
    assert "Traceback" not in proc.stderr
    reasons = [ln for ln in proc.stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
    return proc.returncode, reasons[-1] if reasons else ""


@pytest.mark.parametrize(
    "name, value",
    [
        ("master_ip", "not-an-ip"),
        ("master_ip", "10.0.0.300"),
        ("nb_master_port", "0"),
        ("sb_master_port", "70000"),
        ("nb_master_port", "66x"),
        ("nb_master_protocol", "udp"),
        ("sb_master_protocol", "TCP "),
        ("inactive_probe_interval", "-1"),
        ("inactive_probe_interval_to_master", "soon"),
        ("manage_northd", "maybe"),
        ("listen_on_master_ip_only", "2"),
        ("nowhere_ip", "nowhere"),
        ("listen_ip", "0.0.0.0.0"),
        ("ovn_rundir", "relative/run"),
        ("promoted_score", "-5"),
        ("hold_master_ip", "perhaps"),
        ("master_ip_nic", "a-name-longer-than-15"),
        ("master_ip_nic", "-eth0"),
        ("master_ip_cidr_netmask", "0"),
        ("master_ip_cidr_netmask", "129"),
    ],
)
def test_a_value_wrong_everywhere_is_not_configured(name, value):
    rc, reason = run("validate-all", **{name: value})
    assert rc == 6
    assert f"{name}={value!r}" in reason


def test_missing_master_ip_is_not_configured():
    rc, reason = run("validate-all", master_ip="")
    assert rc == 6 and "master_ip=''" in reason


def test_missing_ovn_ctl_is_not_installed_here():
    rc, reason = run("validate-all", ovn_ctl="/nonexistent/ovn-ctl")
    assert rc == 5 and "ovn_ctl='/nonexistent/ovn-ctl'" in reason


def test_missing_ssl_files_are_checked_only_when_the_protocol_is_ssl(tmp_path):
    missing = str(tmp_path / "key.pem")
    assert run("validate-all", ovn_nb_db_privkey=missing)[0] == 0
    rc, reason = run("validate-all", nb_master_protocol="ssl", ovn_nb_db_privkey=missing)
    assert rc == 5 and f"ovn_nb_db_privkey={missing!r}" in reason


@pytest.mark.parametrize("params", [{"master_ip": "bad"}, {"ovn_ctl": "/nonexistent"}, {"master_ip": ""}])
def test_probe_says_stopped_and_stop_succeeds_with_a_broken_configuration(params):
    assert run("monitor", interval="0", **params)[0] == 7
    assert run("stop", **params)[0] == 0
    assert run("start", **params)[0] in (5, 6)


def test_unknown_action_and_usage():
    assert run("frobnicate")[0] == 3
    assert run("usage")[0] == 0


@pytest.mark.parametrize("params, quoted", [
    ({"hold_master_ip": "yes", "master_ip_cidr_netmask": "24"}, "master_ip_nic=''"),
    ({"hold_master_ip": "yes", "master_ip_nic": "lo"}, "master_ip_cidr_netmask=''"),
    ({"hold_master_ip": "yes", "master_ip_nic": "lo", "master_ip_cidr_netmask": "33"}, "master_ip_cidr_netmask=33"),
    ({"hold_master_ip": "yes", "master_ip_nic": "lo", "master_ip_cidr_netmask": "24",
      "listen_on_master_ip_only": "no"}, "hold_master_ip=yes"),
])
def test_a_held_master_ip_needs_its_interface_and_a_prefix_of_its_family(params, quoted):
    """hold_master_ip=yes (held_ip.py): wrong for every host, whatever this host has."""
    rc, reason = run("validate-all", **params)
    assert rc == 6 and quoted in reason, reason


def test_a_held_master_ip_on_an_interface_this_host_lacks_is_invalid_here():
    rc, reason = run("validate-all", hold_master_ip="yes", master_ip_nic="ocfa-none0", master_ip_cidr_netmask="24")
    assert rc == 2 and "master_ip_nic='ocfa-none0'" in reason and "no such network device" in reason
