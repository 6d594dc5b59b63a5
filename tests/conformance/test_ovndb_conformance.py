"""ovndb-servers as Pacemaker's tools see it: meta-data schemas, ocf-tester, crm_resource
--validate, pcs resource describe.

ocf-tester really starts, promotes, demotes and stops the servers (on 127.0.11.1, under a
temporary directory). It needs somewhere to write promotion scores: with no cluster on the
test host, CIB_file points crm_attribute at a CIB file naming this host, which is what an
operator does to run ocf-tester off-cluster. (Without any CIB, start fails with a reason
saying the promotion score could not be set: a start that pretends leaves Pacemaker
promoting nobody.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "heartbeat" / "ovndb-servers"
PROVIDER = "ocfatest-ovndb"
PROVIDER_DIR = Path("/usr/lib/ocf/resource.d") / PROVIDER
DTD = Path("/usr/share/resource-agents/ra-api-1.dtd")
STRICT_RNG = REPO.parent / "shared" / "spec" / "ocf-1.1" / "ra-api.rng"
PCS_RNG = Path("/usr/share/pcs/data/ocf-1.1.rng")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="installs a provider under /usr/lib/ocf and runs ovn-ctl")


def rng() -> Path:
    """The strict OCF 1.1 schema when the shared spec is present, else pcs's copy."""
    return STRICT_RNG if STRICT_RNG.exists() else PCS_RNG


@pytest.fixture(scope="module")
def metadata() -> bytes:
    # As nobody, with an empty environment: what ocf-tester and pcs do.
    argv = [str(AGENT), "meta-data"]
    if os.geteuid() == 0:
        argv = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "nobody", "--", *argv]
    proc = subprocess.run(argv, env={}, capture_output=True, check=True)
    return proc.stdout


def test_meta_data_is_valid_against_the_ocf_1_0_dtd(metadata):
    from lxml import etree

    doc = etree.fromstring(metadata)
    assert etree.DTD(str(DTD)).validate(doc), "ra-api-1.dtd"


def test_meta_data_is_valid_against_the_ocf_1_1_relaxng_schema(metadata):
    from lxml import etree

    schema = etree.RelaxNG(etree.parse(str(rng())))
    assert schema.validate(etree.fromstring(metadata)), f"{rng()}: {schema.error_log}"


def test_meta_data_declares_a_monitor_for_each_role_with_different_intervals(metadata):
    from lxml import etree

    monitors = etree.fromstring(metadata).xpath("//action[@name='monitor']")
    assert {(m.get("role"), m.get("interval")) for m in monitors} == {("Promoted", "15s"), ("Unpromoted", "10s")}


@pytest.fixture
def cib(tmp_path) -> Path:
    path = tmp_path / "cib.xml"
    env = dict(os.environ, CIB_file=str(path))
    path.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    host = socket.gethostname()
    subprocess.run(["cibadmin", "-C", "-o", "nodes", "-X", f'<node id="1" uname="{host}"/>'], env=env, check=True)
    subprocess.run(["cibadmin", "-C", "-o", "status", "-X",
                    f'<node_state id="1" uname="{host}" in_ccm="true" crmd="online" join="member" '
                    'expected="member"/>'], env=env, check=True)
    return path


def kill_under(root: Path) -> None:
    """Kill the servers started under ``root``, by PID (their --monitor parents exit with
    them: they restart crashed servers only)."""
    for name in ("ovnnb_db.pid", "ovnsb_db.pid"):
        try:
            pid = int((root / "run" / name).read_text())
            if str(root).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, 9)
        except (OSError, ValueError):
            continue


@needs_root
@pytest.mark.skipif(not shutil.which("ocf-tester"), reason="ocf-tester is not installed (resource-agents)")
def test_ocf_tester_passes(cib, tmp_path):
    params = {"master_ip": "127.0.11.1", "nb_master_port": "16641", "sb_master_port": "16642",
              "nowhere_ip": "127.0.11.254", "ovn_rundir": f"{tmp_path}/run", "ovn_dbdir": f"{tmp_path}/db",
              "ovn_logdir": f"{tmp_path}/log", "ovn_sysconfdir": f"{tmp_path}/etc"}
    argv = ["ocf-tester", "-n", "ovndb"]
    for key, value in params.items():
        argv += ["-o", f"{key}={value}"]
    try:
        proc = subprocess.run([*argv, str(AGENT)], env=dict(os.environ, CIB_file=str(cib)),
                              capture_output=True, text=True, timeout=300)
    finally:
        kill_under(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout


@pytest.fixture
def installed():
    """The agent under a test provider (a symlink: the script finds the package beside it)."""
    PROVIDER_DIR.mkdir(parents=True, exist_ok=True)
    link = PROVIDER_DIR / "ovndb-servers"
    link.symlink_to(AGENT)
    try:
        yield f"ocf:{PROVIDER}:ovndb-servers"
    finally:
        link.unlink()
        PROVIDER_DIR.rmdir()


def validate(*options: str) -> subprocess.CompletedProcess:
    argv = ["crm_resource", "--validate", "--class", "ocf", "--provider", PROVIDER, "--agent", "ovndb-servers"]
    for option in options:
        argv += ["--option", option]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@needs_root
@pytest.mark.parametrize(
    "options, rc, named",
    [
        (["master_ip=127.0.11.1"], 0, None),
        (["master_ip=bad"], 6, "master_ip='bad'"),
        (["master_ip=127.0.11.1", "nb_master_port=99999"], 6, "nb_master_port='99999'"),
        (["master_ip=127.0.11.1", "sb_master_protocol=http"], 6, "sb_master_protocol='http'"),
        (["master_ip=127.0.11.1", "manage_northd=perhaps"], 6, "manage_northd='perhaps'"),
        (["master_ip=127.0.11.1", "reset_clients=sometimes"], 6, "reset_clients='sometimes'"),
        (["master_ip=127.0.11.1", "ovn_ctl=/nonexistent"], 5, "ovn_ctl='/nonexistent'"),
    ],
)
def test_crm_resource_validate(installed, options, rc, named):
    proc = validate(*options)
    assert proc.returncode == rc, proc.stdout + proc.stderr
    if named:
        assert named in proc.stdout + proc.stderr


@needs_root
@pytest.mark.skipif(not shutil.which("pcs"), reason="pcs is not installed")
def test_pcs_resource_describe(installed):
    proc = subprocess.run(["pcs", "resource", "describe", installed], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in ("master_ip", "nowhere_ip", "inactive_probe_interval_to_master", "listen_on_master_ip_only"):
        assert name in proc.stdout
