"""The benchmark's numbers: per action and agent, median, min and max; ratios; a chart."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from .scenarios import Sample

BASE_ACTIONS = (
    "monitor (unpromoted)", "monitor (promoted)", "monitor (probe, stopped)", "start", "stop", "promote",
    "demote", "notify pre-promote", "notify post-promote (promoted node)", "notify post-promote (other node)",
    "switchover (sum of agent calls)", "meta-data", "validate-all",
)
SCALE_ACTIONS = ("monitor (unpromoted)", "monitor (promoted)", "start", "promote", "start (new empty backup)",
                 "new backup caught up")
CPU_ACTIONS = ("monitor (unpromoted)", "monitor (promoted)", "monitor (probe, stopped)")
AGENT_NAMES = {"ours": "ours (ocf:ovsha:ovndb-servers)", "theirs": "OVN's (ovndb-servers.ocf)"}


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "?"
    return out.splitlines()[0].strip() if out else "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine() -> dict[str, str]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "kernel": platform.release(),
        "cpu": f"{_cpu_model()} x {os.cpu_count()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "ovsdb-server": _version(["ovsdb-server", "--version"]),
        "ovn": _version(["ovn-nbctl", "--version"]),
        "pacemaker": _version(["pacemakerd", "--version"]),
        "corosync": _version(["corosync", "-v"]),
        "python (agents)": _version(["/usr/bin/python3", "--version"]),
        "bash (OVN's agent)": _version(["bash", "--version"]),
    }


class Stats:
    def __init__(self, samples: list[Sample]) -> None:
        self.samples = samples

    def values(self, action: str, agent: str, size: int | None, what: str = "wall") -> list[float]:
        return [getattr(s, what) for s in self.samples if (s.action, s.agent, s.size) == (action, agent, size)]

    def failures(self, action: str, agent: str, size: int | None) -> int:
        return sum(not s.ok for s in self.samples if (s.action, s.agent, s.size) == (action, agent, size))

    def median(self, action: str, agent: str, size: int | None, what: str = "wall") -> float | None:
        values = self.values(action, agent, size, what)
        return statistics.median(values) if values else None

    def sizes(self) -> list[int]:
        return sorted({s.size for s in self.samples if s.size is not None})

    def cell(self, action: str, agent: str, size: int | None, what: str = "wall") -> str:
        values = self.values(action, agent, size, what)
        if not values:
            return "-"
        text = f"{_ms(statistics.median(values))} ({_ms(min(values))}-{_ms(max(values))})"
        failed = self.failures(action, agent, size)
        return text + (f" {failed} failed" if failed else "")

    def ratio(self, action: str, size: int | None, what: str = "wall") -> str:
        ours, theirs = self.median(action, "ours", size, what), self.median(action, "theirs", size, what)
        if not ours or not theirs:
            return "-"
        return f"{ours / theirs:.2f}"

    def row(self, label: str, action: str, size: int | None, what: str = "wall") -> str:
        n = len(self.values(action, "ours", size, what))
        return (f"| {label} | {self.cell(action, 'ours', size, what)} | {self.cell(action, 'theirs', size, what)} "
                f"| {self.ratio(action, size, what)} | {n} |")


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}"


HEADER = ("| action | ours: median (min-max) ms | OVN's: median (min-max) ms | ours/OVN's | runs |\n"
          "|---|---:|---:|---:|---:|")


def markdown(samples: list[Sample], info: dict[str, str], failures: list[str], command: str) -> str:
    stats = Stats(samples)
    lines = ["# ovndb-servers: ours against OVN's agent", "",
             f"Produced by `{command}`. Wall time of each agent call (fork to exit, timed inside the node's "
             "namespace); each step run with each agent in turn on the same two nodes.", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", "## Actions (empty databases)", "", HEADER]
    lines += [stats.row(action, action, None) for action in BASE_ACTIONS if stats.values(action, "ours", None)]
    lines += ["", "## CPU per call (user+sys of the agent and the programs it waited for)", "", HEADER]
    lines += [stats.row(action, action, None, "cpu") for action in CPU_ACTIONS if stats.values(action, "ours", None)]
    if stats.sizes():
        lines += ["", "## Scale: northbound database of N logical switch ports", "", HEADER]
        for size in stats.sizes():
            lines += [stats.row(f"{action} @ {size}", action, size) for action in SCALE_ACTIONS
                      if stats.values(action, "ours", size)]
    if failures:
        lines += ["", "## Unexpected exit codes", ""] + [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def save(samples: list[Sample], info: dict[str, str], failures: list[str], command: str, output: Path) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(
        {"machine": info, "command": command, "failures": failures, "samples": [asdict(s) for s in samples]},
        indent=1))
    report = output / "report.md"
    report.write_text(markdown(samples, info, failures, command))
    return report


def chart(samples: list[Sample], path: Path) -> bool:
    """Left: median wall time per action, both agents. Right: how it grows with the database."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    stats = Stats(samples)
    colours = {"ours": "#1f77b4", "theirs": "#d62728"}
    actions = [a for a in BASE_ACTIONS if stats.values(a, "ours", None) and stats.values(a, "theirs", None)]
    sizes = stats.sizes()
    fig, axes = plt.subplots(1, 2 if sizes else 1, figsize=(14 if sizes else 8, 6), squeeze=False)
    left = axes[0][0]
    y = range(len(actions))
    for offset, agent in ((-0.2, "ours"), (0.2, "theirs")):
        left.barh([i + offset for i in y], [stats.median(a, agent, None) * 1000 for a in actions], height=0.4,
                  color=colours[agent], label=AGENT_NAMES[agent])
    left.set_yticks(list(y), actions)
    left.invert_yaxis()
    left.set_xlabel("median wall time (ms)")
    left.set_title("Actions, empty databases")
    left.legend(loc="lower right")
    if sizes:
        right = axes[0][1]
        for action, style in (("monitor (unpromoted)", "o-"), ("promote", "s-"), ("start", "^-"),
                              ("new backup caught up", "d-")):
            for agent in ("ours", "theirs"):
                points = [(n, stats.median(action, agent, n)) for n in sizes]
                points = [(n, v * 1000) for n, v in points if v is not None]
                if points:
                    right.plot(*zip(*points), style, color=colours[agent], alpha=1.0 if agent == "ours" else 0.6,
                               label=f"{action}, {agent}")
        right.set_xscale("log")
        right.set_yscale("log")
        right.set_xlabel("logical switch ports in the northbound database")
        right.set_ylabel("median wall time (ms)")
        right.set_title("As the database grows")
        right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
