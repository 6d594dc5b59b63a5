"""One real lab (Corosync + Pacemaker in namespaces), shared by every cluster test.

Bringing a lab up costs seconds, so the session keeps one and hands it to each test that asks
for a size (and agent); a test that needs another size or agent (or that took the lab down)
makes the pool bring a new one up. Whatever happens, the lab is taken down at the end of the
session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from ocf_agents.lab import lab as lab_mod
from ocf_agents.lab.drill import Drill
from ocf_agents.lab.lab import Lab

REPO = Path(__file__).resolve().parents[2]
# The nodes run this checkout's agents; set this to test installed ones (e.g. ovsha after
# `make install`, or a Debian package's).
PROVIDER = os.environ.get("OCF_AGENTS_LAB_PROVIDER", "ovshalab")


def ocf_agents_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real command line, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "ocf_agents.cli", *args], cwd=REPO,
                          capture_output=True, text=True, check=check, timeout=300)


def why_no_lab() -> str | None:
    """Why this machine cannot run the lab (a skip reason), or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("unshare", "nsenter", "corosync", "pacemakerd", "ovs-vswitchd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make deps)"
    probe = subprocess.run(["unshare", "--net", "--mount", "--uts", "--pid", "--fork", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"namespaces are not available here: {probe.stderr.strip()}"
    return None


class LabPool:
    """Hands out a lab of the size asked for, reusing the one that is up."""

    def __init__(self) -> None:
        self.lab: Lab | None = None

    def get(self, node_count: int, agent: str = "ours") -> Lab:
        """A lab of ``node_count`` nodes whose database role ``agent`` runs (lab up --agent)."""
        state = self.lab.state if self.lab is not None else None
        if state is not None and (state.node_count, state.agent) == (node_count, agent) \
                and lab_mod.is_up():
            return self.lab
        self.drop()
        if lab_mod.is_up():
            pytest.fail("a lab is already up, not started by these tests (ocf-agents lab down)")
        ocf_agents_cli("lab", "up", "--nodes", str(node_count), "--provider", PROVIDER,
                       "--agent", agent)
        self.lab = Lab.load()
        return self.lab

    def drop(self) -> None:
        """Take the current lab down (also when a test left it broken)."""
        if self.lab is not None:
            self.lab = None
            ocf_agents_cli("lab", "down")


@contextlib.contextmanager
def brought_up_drill(pool: LabPool, node_count: int, agent: str = "ours",
                     prepare: Callable[[Lab], None] = lambda lab: None,
                     **options: object) -> Iterator[Drill]:
    """A Drill on the pool's lab after a bring-up that went well (else the test fails), with
    the nodes ``prepare``d first (other software on some: Lab.replace_in); afterwards its
    clients stopped and the lab dropped (the agents' resources, addresses and whatever
    ``prepare`` did go with it)."""
    drill = Drill(pool.get(node_count, agent), **options)
    try:
        prepare(drill.lab)
        result = drill.step("bring-up", drill.bring_up)
        if not result.ok:
            pytest.fail(f"bring-up with {agent}: {result.outcome}")
        yield drill
    finally:
        drill.stop_clients()
        pool.drop()
