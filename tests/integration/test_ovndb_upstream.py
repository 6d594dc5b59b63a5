"""Side by side with OVN's own agent: the defects this agent fixes, shown on the same servers.

Not a dependency of the suite: skipped with the reason when OVN's agent is not installed.
OVN's agent is pointed at the same ovn-ctl directories through the environment ovn-ctl
reads (OVN_RUNDIR...), since it has no parameters for them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from ovndb_harness import OCF_ROOT, Lab, have_ovn, wait_for

UPSTREAM = "/usr/share/ovn/scripts/ovndb-servers.ocf"
OVN_CTL = "/usr/share/ovn/scripts/ovn-ctl"
SPIN_LIMIT = 5.0  # seconds: far more than our start needs on the same servers

pytestmark = [
    pytest.mark.skipif(not os.path.exists(UPSTREAM), reason="OVN's agent is not installed (package ovn-central)"),
    pytest.mark.skipif(not have_ovn(), reason="needs ovsdb-server, ovn-ctl, ovn-nbctl and crm_attribute"),
    pytest.mark.skipif(os.geteuid() != 0, reason="ovn-ctl needs root"),
]


@pytest.fixture
def mixed():
    """One node whose northbound server is active and southbound server a backup."""
    lab = Lab(1)
    try:
        node = lab.nodes[0]
        assert node.run("start").rc == 0
        assert node.appctl("nb", "ovsdb-server/disconnect-active-ovsdb-server").returncode == 0
        assert node.roles() == ("active", "backup")
        yield node
    finally:
        lab.close()


def upstream_env(node) -> dict[str, str]:
    """OVN's agent's environment, with ovn-ctl's directories pointed at the node's."""
    return {
        "PATH": os.environ["PATH"], "OCF_ROOT": OCF_ROOT, "OCF_RESOURCE_INSTANCE": "ovndb:0",
        "OCF_RESKEY_CRM_meta_on_node": node.name, "CIB_file": str(node.cib), "HA_LOGFACILITY": "none",
        "OCF_RESKEY_master_ip": node.addr, "OCF_RESKEY_CRM_meta_interval": "10000",
        "OVN_RUNDIR": str(node.rundir), "OVN_DBDIR": str(node.root / "db"), "OVN_LOGDIR": str(node.root / "log"),
        "OVN_SYSCONFDIR": str(node.root / "etc"),
    }


def upstream(node, action: str, limit: float) -> int | None:
    """Run OVN's agent; None when it is still running after ``limit`` seconds (then killed:
    it runs in its own process group, which only it and its children belong to)."""
    proc = subprocess.Popen(["bash", UPSTREAM, action], env=upstream_env(node), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def test_mixed_state_upstream_calls_it_stopped_we_report_an_error(mixed):
    assert upstream(mixed, "monitor", SPIN_LIMIT) == 7  # "stopped", while both servers run
    assert mixed.run("monitor", interval_ms=10000).rc == 1


def test_mixed_state_upstream_start_spins_ours_repairs(mixed):
    assert upstream(mixed, "start", SPIN_LIMIT) is None  # an unbounded loop until killed
    assert mixed.roles() == ("active", "backup")
    assert mixed.run("start").rc == 0
    assert mixed.roles() == ("backup", "backup")


@pytest.fixture
def node():
    lab = Lab(1)
    try:
        yield lab.nodes[0]
    finally:
        lab.close()


def ovn_ctl_status(node) -> str:
    """What OVN's agent decides by: ``ovn-ctl status_ovnnb``, e.g. "running/active"."""
    result = subprocess.run([OVN_CTL, "status_ovnnb"], env=upstream_env(node), capture_output=True,
                            text=True, timeout=10)
    return result.stdout.strip()


def test_start_on_a_promoted_node_upstream_is_wrong_ours_makes_backups(node):
    """OVN's agent is wrong here in one of two ways, by version. ovn-ctl takes the role from
    the first line of ``ovsdb-server/sync-status``: up to OVS 3.2 that is "state: active",
    and OVN's start returns 8 (start must never say "promoted"). From OVS 3.3 (Debian 13:
    OVS 3.5, OVN 25.03) the first line is "database: OVN_Northbound", ovn-ctl says
    "running/OVN_Northbound", OVN's agent takes running servers for stopped and its start
    waits forever for a role it cannot read. Ours reads the state: line wherever it stands."""
    assert node.run("start").rc == 0
    assert node.run("promote", master_ip=node.addr).rc == 0
    status = ovn_ctl_status(node)
    assert status in ("running/active", "running/OVN_Northbound"), status
    expected = 8 if status == "running/active" else None  # None: still running when killed
    assert upstream(node, "start", SPIN_LIMIT) == expected
    assert node.run("start").rc == 0
    assert node.roles() == ("backup", "backup")


def test_zombie_pidfile_upstream_start_spins_ours_starts(node, tmp_path):
    fake = tmp_path / "ovsdb-server"
    shutil.copy("/bin/true", fake)
    zombie = subprocess.Popen([str(fake)])  # not waited for until the end: a zombie named ovsdb-server
    try:
        wait_for("the zombie", lambda: open(f"/proc/{zombie.pid}/stat").read().split(") ")[1][0] == "Z")
        node.rundir.mkdir(parents=True)
        for db in ("nb", "sb"):
            (node.rundir / f"ovn{db}_db.pid").write_text(f"{zombie.pid}\n")
        assert upstream(node, "start", SPIN_LIMIT) is None
        assert node.roles() == ("down", "down")
        assert node.run("start").rc == 0
        assert node.roles() == ("backup", "backup")
    finally:
        zombie.wait()
