"""Pacemaker's scheduler on a CIB file: crm_simulate with injected promotion scores."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path


def simulate(cib: Path, out: Path, *args: str) -> Path:
    """Run the scheduler on ``cib`` (and the simulated actions); the result goes to ``out``."""
    subprocess.run(["crm_simulate", "-x", str(cib), "-S", "-O", str(out), *args],
                   check=True, capture_output=True, text=True, timeout=60)
    return out


def set_promotion_scores(cib: Path, primitive: str, scores: dict[str, int]) -> None:
    """What the agent's monitor does on each node: ``master-<primitive>`` transient attributes."""
    for node, score in scores.items():
        subprocess.run(["crm_attribute", "-N", node, "-n", f"master-{primitive}", "-v", str(score), "-l", "reboot"],
                       env={**os.environ, "CIB_file": str(cib)}, check=True, capture_output=True, timeout=60)


def locate(cib: Path, resource: str) -> dict[str, str]:
    """node -> state ("promoted" or "started") of ``resource`` in the simulated status."""
    result = subprocess.run(["crm_resource", "--locate", "-r", resource, "--output-as=xml"],
                            env={**os.environ, "CIB_file": str(cib)}, check=True, capture_output=True,
                            text=True, timeout=60)
    nodes = ET.fromstring(result.stdout).iter("node")
    return {n.text or "": n.get("state", "started") for n in nodes}


def promoted_node(cib: Path, clone: str) -> str:
    promoted = [node for node, state in locate(cib, clone).items() if state == "promoted"]
    assert len(promoted) == 1, f"{clone}: expected one promoted instance, got {locate(cib, clone)}"
    return promoted[0]


def only_node(cib: Path, resource: str) -> str:
    where = locate(cib, resource)
    assert len(where) == 1, f"{resource}: expected on one node, got {where}"
    return next(iter(where))
