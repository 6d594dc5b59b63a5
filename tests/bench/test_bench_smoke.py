"""The benchmark harness runs end to end (one run, a tiny database): no timing is asserted.

It drives both agents through every step on a real ovsdb-server pair in two network
namespaces; this checks that each step ran with the exit code Pacemaker expects, that the
report names every action for both agents, and that nothing is left behind.
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
        for action in ("monitor (unpromoted)", "start", "promote", "new backup caught up"):
            assert (agent, action, PORTS) in seen
    report = (tmp_path / "report.md").read_text()
    assert "| monitor (unpromoted) |" in report and "ours/OVN's" in report
    assert _bench_namespaces() == before
