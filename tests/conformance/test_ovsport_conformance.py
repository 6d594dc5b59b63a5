"""OVSPort as Pacemaker's tools see it: meta-data against the DTD and the OCF 1.1 schema,
``crm_resource --validate`` on the agent installed the way ``make install`` does (under the
provider ``ocfatest-port``, removed afterwards), ``ocf-tester`` against a real Open vSwitch,
and the privilege rule."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from integration.ovs_netns import BRIDGE, PortLab, port_lab  # noqa: F401 (fixture)
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "heartbeat" / "OVSPort"
DTD = Path("/usr/share/resource-agents/ra-api-1.dtd")
PROVIDER = "ocfatest-port"
OCF_ROOT = Path("/usr/lib/ocf")
LIMIT = 60  # seconds for any one tool run
CONFIGURED, INSTALLED, PERM = 6, 5, 4


def as_nobody(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv],
        env=env, capture_output=True, text=True, timeout=LIMIT,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The agent and library installed by ``make install PROVIDER=ocfatest-port`` (its
    ocf-agents command in a temporary directory, not over an operator's /usr/sbin one)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to install an agent under /usr/lib/ocf")
    make = ["make", "-s", "-C", str(REPO), f"PROVIDER={PROVIDER}", f"SBINDIR={tmp_path_factory.mktemp('sbin')}"]
    try:
        subprocess.run(make + ["install"], check=True, capture_output=True, timeout=LIMIT)
        yield OCF_ROOT / "resource.d" / PROVIDER / "OVSPort"
    finally:
        subprocess.run(make + ["uninstall"], capture_output=True, timeout=LIMIT)


def validate(options: dict[str, str], netns: str | None = None) -> subprocess.CompletedProcess:
    """crm_resource --validate; it reports the agent's stderr (exit reasons) on its stdout."""
    argv = ["crm_resource", "--validate", "--class", "ocf", "--provider", PROVIDER, "--agent", "OVSPort"]
    for key, value in options.items():
        argv += ["--option", f"{key}={value}"]
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=LIMIT)


def test_meta_data_as_nobody_is_valid_against_dtd_and_schema(ocf_rng: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run the agent as nobody")
    result = as_nobody(["/usr/bin/python3", str(AGENT), "meta-data"], env={})
    assert result.returncode == 0, result.stderr
    doc = etree.fromstring(result.stdout.encode())
    assert etree.DTD(str(DTD)).validate(doc), "ra-api-1.dtd"
    schema = etree.RelaxNG(etree.parse(str(ocf_rng)))
    assert schema.validate(doc), f"{ocf_rng}: {schema.error_log}"
    names = [p.get("name") for p in doc.iter("parameter")]
    assert names[:3] == ["bridge", "interface", "mac"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("interface", "sixteen-bytes-xx"),
        ("interface", "a/b"),
        ("interface", "a b"),
        ("interface", "a;b"),
        ("interface", "-up"),
        ("bridge", "br$0"),
        ("mac", "02:00:5e:10:00"),
        ("mac", "01:00:5e:00:00:01"),
        ("mac", "00:00:00:00:00:00"),
        ("tag", "4096"),
        ("tag", "-1"),
        ("vlan_mode", "tagged"),
        ("bringup", "netplan"),
        ("announce", "maybe"),
        ("iface_status", "up"),
        ("attached_mac", "ff:ff:ff:ff:ff:ff"),
        ("ovsdb", "/run/openvswitch/db.sock"),
        ("route_table", "0"),
        ("route_table", "254"),
        ("route_table", "main"),
        ("route_table", "4294967296"),
        ("route_table", "a;b"),
        ("rule_priority", "0"),
        ("rule_priority", "32766"),
        ("arp_isolation", "maybe"),
        ("ipv6_autoconf", "maybe"),
    ],
)
def test_crm_resource_validate_rejects_bad_values(installed: Path, param: str, value: str) -> None:
    options = {"bridge": "br0", "interface": "vip0", param: value}
    result = validate(options)
    assert result.returncode == CONFIGURED, result.stdout + result.stderr
    assert f"ocf-exit-reason:Parameter {param}={value!r} is invalid" in result.stdout


def test_crm_resource_validate_rejects_a_missing_bridge(installed: Path) -> None:
    result = validate({"interface": "vip0"})
    assert result.returncode == CONFIGURED
    assert "ocf-exit-reason:Parameter bridge='' is invalid: it is required" in result.stdout


def test_an_empty_interface_is_rejected() -> None:
    # crm_resource cannot pass an empty --option value; Pacemaker can (an empty attribute).
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_RESKEY_bridge": "br0", "OCF_RESKEY_interface": ""}
    result = subprocess.run([str(AGENT), "validate-all"], env=env, capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == CONFIGURED
    assert "ocf-exit-reason:Parameter interface='' is invalid" in result.stderr


def test_crm_resource_validate_against_real_ovs(installed: Path, port_lab: PortLab) -> None:
    good = {"bridge": BRIDGE, "interface": "vip0", "ovsdb": port_lab.ovs.db, "tag": "7"}
    accepted = validate(good, port_lab.ns.name)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    absent = validate({**good, "bridge": "br-absent"}, port_lab.ns.name)
    assert absent.returncode == INSTALLED
    assert "ocf-exit-reason:Parameter bridge='br-absent': no such bridge" in absent.stdout


def test_ocf_tester_passes(installed: Path, port_lab: PortLab) -> None:
    iface = port_lab.new_interface()
    argv = ["ocf-tester", "-n", "vip-port", "-o", f"bridge={BRIDGE}", "-o", f"interface={iface}",
            "-o", f"ovsdb={port_lab.ovs.db}", str(installed)]
    result = port_lab.ns.run(argv, check=False, timeout=LIMIT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{installed} passed all tests" in result.stdout
    assert port_lab.ns.link(iface) is None, "ocf-tester ends with stop: nothing is left"


def test_ocf_tester_passes_on_a_shared_bridge(installed: Path, port_lab: PortLab) -> None:
    """The same with source-based routing and the port's kernel settings: ocf-tester's stop
    leaves no rule of the table behind."""
    iface = port_lab.new_interface()
    options = [f"bridge={BRIDGE}", f"interface={iface}", f"ovsdb={port_lab.ovs.db}", "route_table=4250",
               "arp_isolation=yes", "ipv6_autoconf=no"]
    argv = ["ocf-tester", "-n", "vip-port", *[w for o in options for w in ("-o", o)], str(installed)]
    result = port_lab.ns.run(argv, check=False, timeout=LIMIT)
    assert result.returncode == 0, result.stdout + result.stderr
    for family in ("-4", "-6"):
        assert "4250" not in port_lab.ns.run(["ip", family, "-N", "rule", "show"]).stdout


@pytest.mark.parametrize("action", ["start", "stop"])
def test_start_and_stop_need_root(action: str) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the agent as nobody")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": str(OCF_ROOT),
           "OCF_RESKEY_bridge": "br0", "OCF_RESKEY_interface": "vip0"}
    result = as_nobody(["/usr/bin/python3", str(AGENT), action], env=env)
    assert result.returncode == PERM
    assert f"ocf-exit-reason:Action {action} must be run as root" in result.stderr


def run_agent(action: str, interval_ms: int, **params: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": str(OCF_ROOT), "OCF_RESOURCE_INSTANCE": "vip",
           "OCF_RESKEY_CRM_meta_interval": str(interval_ms), "HA_LOGFACILITY": "none"}
    env |= {key if key == "PATH" else f"OCF_RESKEY_{key}": value for key, value in params.items()}
    return subprocess.run(["/usr/bin/python3", str(AGENT), action], env=env, capture_output=True, text=True,
                          timeout=LIMIT)


@pytest.mark.parametrize(
    "broken",
    [{"interface": "a;b"}, {"tag": "9999"}, {"PATH": "/nonexistent"}],
    ids=["bad-name", "bad-tag", "no-ovs-vsctl"],
)
def test_probe_and_stop_follow_the_invalid_environment_rules(broken: dict[str, str]) -> None:
    params = {"bridge": "br0", "interface": "vip0"} | broken
    assert run_agent("monitor", 0, **params).returncode == 7, "a probe says stopped"
    assert run_agent("stop", 0, **params).returncode == 0, "stop succeeds"
    recurring = run_agent("monitor", 10000, **params)
    assert recurring.returncode == (INSTALLED if "PATH" in broken else CONFIGURED)
    assert "ocf-exit-reason:" in recurring.stderr
