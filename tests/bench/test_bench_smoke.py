"""The benchmark harness runs end to end (one run, a tiny database): no timing is asserted.

It drives both agents through every step on a real ovsdb-server pair in two network
namespaces, with a writing client in a third; this checks that each step ran with the exit code Pacemaker expects, that the
report names every action for both agents, that every kind of switchover had its writing
client (and our agent lost none of its acknowledged writes), and that nothing is left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
THEIRS = "/usr/share/ovn/scripts/ovndb-servers.ocf"
PORTS = 50


def _skip_unless_possible() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    missing = [p for p in ("ovsdb-server", "ip", "nsenter", "cibadmin", "crm_attribute") if not shutil.which(p)]
    if missing or not os.path.exists(THEIRS):
        pytest.skip(f"needs ovn-central and pacemaker-cli-utils (missing: {missing or [THEIRS]})")


def _bench_namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("ocfa-bench-")}


def test_one_run_of_every_step_with_both_agents(tmp_path: Path) -> None:
    _skip_unless_possible()
    before = _bench_namespaces()
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--runs", "1", "--sizes", str(PORTS),
                           "--scale-runs", "1", "--output", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["failures"] == []
    seen = {(s["agent"], s["action"], s["size"]) for s in results["samples"]}
    for agent in ("ours", "theirs"):
        for action in ("monitor (unpromoted)", "monitor (promoted)", "monitor (probe, stopped)", "start", "stop",
                       "promote", "demote", "meta-data", "validate-all"):
            assert (agent, action, None) in seen
        for action in ("monitor (unpromoted)", "start", "promote", "new backup caught up", "write outage",
                       "hand-over gap", "notify post-demote (successor)"):
            assert (agent, action, PORTS) in seen
    kinds = {(r["agent"], r["size"], r["kind"]) for r in results["switchovers"]}
    for size in (None, PORTS):
        assert {("ours", size, "measured"), ("theirs", size, "measured"), ("ours", size, "settle"),
                ("ours", size, "forced fallback")} <= kinds
    assert all(r["acked"] > 0 for r in results["switchovers"])
    assert sum(r["lost"] for r in results["switchovers"] if r["agent"] == "ours") == 0
    report = (tmp_path / "report.md").read_text()
    assert "| monitor (unpromoted) |" in report and "ours/OVN's" in report
    assert "## Switchover: a client's writes through the VIP" in report
    for row in ("| empty |", f"| {PORTS} ports |", f"| {PORTS} ports | forced fallback |",
                f"| {PORTS} ports | settle |", "- our outage - OVN's (medians):", "- our hand-over - OVN's (medians):"):
        assert row in report
    assert _bench_namespaces() == before


def test_the_copy_stall_measurement_runs_and_leaves_nothing_behind() -> None:
    """bench.copy_stall: a row per size, the backup caught up, no server left running."""
    if not shutil.which("ovsdb-server") or not os.path.exists("/usr/share/ovn/ovn-nb.ovsschema"):
        pytest.skip("needs ovsdb-server and ovn-central's northbound schema")
    proc = subprocess.run([sys.executable, "-m", "bench.copy_stall", "--sizes", str(PORTS)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split("|")[1:-1] for line in proc.stdout.splitlines() if line.startswith(f"| {PORTS} |")]
    assert len(rows) == 1 and len(rows[0]) == 5
    left = subprocess.run(["pgrep", "-f", "ocfa-copy-stall-"], capture_output=True, text=True).stdout
    assert left == ""
