"""``python -m bench.failover``: the promoted lab node crashed, with our agent, OVN's agent and
Pacemaker's Stateful (the floor) in turn (``make bench-failover``).

Each run is a fresh lab (``ocf-agents lab up --agent X``), the drill's bring-up and its
crash-promoted step, then ``lab down``: the promoted node is cut off and its whole PID namespace killed, and
the time runs to the first write acknowledged through the VIP by the new promoted node (the
drill's writer, with attempts overlapping every WRITER_SPACING seconds while the VIP has no
server behind it, so that the moment is seen within that). Beside it, the drill's long-lived
client (one IDL session held from the bring-up on, reconnecting by itself: idl_client.py)
gives the outage a real OVN client sees: its longest time without an acknowledged write from
the crash on. Acknowledged writes lost are counted for the two database agents. The agents
take turns (A B C A B C ...), so a change of the machine's load hits all three alike.

Needs root and the whole lab: hold the lab's lock around it on a shared machine
(``flock /run/ocfa-lab.lock python -m bench.failover``). It refuses to start while a lab is up,
and takes down every lab it brought up, also on failure or Ctrl-C. Writes failover.md and
failover.json into --output. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ocf_agents.lab import agents
from ocf_agents.lab import lab as lab_mod
from ocf_agents.lab import network
from ocf_agents.lab.drill import OVNDB, OVNDB_VIP_RSC, Drill, StepResult
from ocf_agents.lab.drill.results import LONG_LIVED
from ocf_agents.lab.drill.transitions import line_time
from ocf_agents.lab.lab import Lab

from . import report
from .lab_runs import checkout, in_turn, save

WRITER_SPACING = 0.1  # seconds between overlapping write attempts during the outage
TARGET_S = 0.5  # issue 7: a fail-over adds less than this to Pacemaker's own time
LABELS = {
    agents.OURS: "ours (ocf:ovshalab:ovndb-servers)",
    agents.OVN: "OVN's (ovndb-servers.ocf)",
    agents.STATEFUL: "Pacemaker's Stateful (the floor)",
}
# Where the time goes: what the new promoted node's Pacemaker logs (pacemaker.log), in order.
LOG_EVENTS = {
    "node lost": "Node {crashed} state is now lost",
    "DC election": "-> S_ELECTION",  # only when the crashed node was the DC
    "fenced": "Operation 'reboot' targeting {crashed} by ",  # the lab fences (docs/lab.md)
    "notify began": f"executing - rsc:{OVNDB} action:notify ",  # pre-promote, on this node
    "promote began": f"executing - rsc:{OVNDB} action:promote ",
    "promoted": f"Result of promote operation for {OVNDB} on {{promoted}}: ok",
    "VIP started": f"Result of start operation for {OVNDB_VIP_RSC} on {{promoted}}: ok",
}
# Stages between those moments: (label, from, to); "crash" and "first write" are the bench's.
STAGES = (
    ("crash to node lost (Corosync)", "crash", "node lost"),
    ("node lost to fenced (fencing; part of the next stage)", "node lost", "fenced"),
    ("node lost to notifications (Pacemaker)", "node lost", "notify began"),
    ("pre-promote notifications", "notify began", "promote began"),
    ("promote", "promote began", "promoted"),
    ("post-promote notifications, VIP start", "promoted", "VIP started"),
    ("VIP started to first write", "VIP started", "first write"),
    ("first notification to first write (all but Corosync's and Pacemaker's part)",
     "notify began", "first write"),
)


@dataclass
class Run:
    """One crash of the promoted node, with one agent."""

    agent: str
    index: int
    ok: bool
    outcome: str
    first_write: float | None = None  # crash to the first acknowledged write, seconds
    acked: int = 0
    lost: int | None = None  # None: not counted (the floor replicates nothing)
    moments: dict[str, float] | None = None  # seconds from the crash (LOG_EVENTS, first write)
    long_lived_gap: float | None = None  # the long-lived client's outage, seconds


def log_moments(log_text: str, crashed: str, promoted: str, crash: float,
                year: int) -> dict[str, float]:
    """Seconds from ``crash`` (time.time()) to the first line of each LOG_EVENTS after it, up
    to the VIP's start. Pacemaker stamps its lines in local time to the millisecond, without
    the year."""
    wanted = {name: text.format(crashed=crashed, promoted=promoted)
              for name, text in LOG_EVENTS.items()}
    found: dict[str, float] = {}
    for line in log_text.splitlines():
        name = next((n for n, text in wanted.items() if n not in found and text in line), None)
        if name is None:
            continue
        stamp = line_time(line, year)
        if stamp is not None and stamp >= crash:
            found[name] = stamp - crash
        if "VIP started" in found:  # the fail-over is over (a later rejoin may elect again)
            break
    return found


def crash_moments(lab: Lab, crash: StepResult) -> dict[str, float]:
    """The crash step's moments, from the new promoted node's log and the writer."""
    crashed_at = crash.moments["crash"]
    log = lab.node(crash.promoted_after).dir / "log" / "pacemaker.log"
    found = log_moments(log.read_text(errors="replace"), crash.promoted_before,
                        crash.promoted_after, crashed_at,
                        datetime.datetime.fromtimestamp(crashed_at).year)
    found["first write"] = crash.timings["first write"]
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.failover",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="crashes per agent (default 5)")
    parser.add_argument("--nodes", type=int, default=3, help="lab size, 2 or 3 (default 3)")
    parser.add_argument("--agents", default=",".join(agents.AGENTS),
                        help=f"which, in this order (default {','.join(agents.AGENTS)})")
    parser.add_argument("--provider", default=lab_mod.LAB_PROVIDER,
                        help="provider of our agents (default: the checkout's, linked for the lab)")
    parser.add_argument("--node-sysctl", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra sysctl in every node's network namespace (repeatable), "
                             "e.g. net.ipv4.ip_nonlocal_bind=1")
    parser.add_argument("--output", type=Path, default=Path("build/bench"),
                        help="directory of the results")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="no runs: write the report again from a failover.json")
    args = parser.parse_args(argv)
    for setting in args.node_sysctl:
        key, sep, value = setting.partition("=")
        if not sep or not key.startswith("net."):
            parser.error(f"--node-sysctl {setting!r}: KEY=VALUE with a net.* key (per namespace)")
    args.agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    for agent in args.agents:
        agents.check_agent(agent)
    return args


def one_run(agent: str, index: int, nodes: int, provider: str,
            log: Callable[[str], None]) -> Run:
    """A fresh lab of ``agent``: bring-up, crash of the promoted node, lab down."""
    lab = lab_mod.up(nodes, provider, agent, say=log)
    try:
        drill = Drill(lab, say=log, writer_spacing=WRITER_SPACING)
        try:
            brought_up = drill.step("bring-up", drill.bring_up)
            if not brought_up.ok:
                return Run(agent, index, False, f"bring-up: {brought_up.outcome}")
            crash = drill.step("crash-promoted", drill.crash_promoted)
        finally:
            drill.stop_clients()
        if not crash.ok:
            return Run(agent, index, False, crash.outcome)
        return Run(agent, index, True, crash.outcome, crash.timings["first write"],
                   crash.acked, crash.lost if agents.replicated(agent) else None,
                   crash_moments(lab, crash), crash.clients[LONG_LIVED].gap)
    finally:
        lab_mod.down(say=log)


def _s(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def stage(run: Run, start: str, end: str) -> float | None:
    """Seconds between two of the run's moments ("crash" is 0), None if one is unknown."""
    moments = {"crash": 0.0, **(run.moments or {})}
    if start not in moments or end not in moments:
        return None
    return moments[end] - moments[start]


def stage_values(runs: list[Run], agent: str, start: str, end: str) -> list[float]:
    values = (stage(r, start, end) for r in runs if r.ok and r.agent == agent)
    return [v for v in values if v is not None]


def long_lived_gaps(runs: list[Run], agent: str) -> list[float]:
    return [r.long_lived_gap for r in runs
            if r.ok and r.agent == agent and r.long_lived_gap is not None]


def added_to_floor(runs: list[Run], start: str, end: str) -> dict[str, float]:
    """Per agent other than the floor: its median seconds from ``start`` to ``end`` minus
    the floor's (empty when the floor was not measured)."""
    medians = {agent: statistics.median(values) for agent in LABELS
               if (values := stage_values(runs, agent, start, end))}
    floor = medians.pop(agents.STATEFUL, None)
    if floor is None:
        return {}
    return {agent: value - floor for agent, value in medians.items()}


def markdown(runs: list[Run], info: dict[str, str], command: str) -> str:
    measured = [a for a in LABELS if any(r.agent == a for r in runs)]
    lines = ["# Fail-over in the lab: ours, OVN's agent and Pacemaker's Stateful", "",
             f"Produced by `{command}`. Each run: a fresh lab, the drill's bring-up, SIGKILL of "
             "the promoted node's whole PID namespace; seconds from the kill to the first write "
             "acknowledged through the VIP by the new promoted node; and the longest time "
             "without an acknowledged write, from the kill on, of a long-lived client (one "
             "OVSDB IDL session to the VIP held from the bring-up on, default probe and "
             "back-off, as ovn-northd and the OpenStack driver have them). Agents in turn.",
             ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", "| agent | crash to first acknowledged write, s: median (min-max) "
              "| long-lived client's outage, s | acknowledged writes lost "
              "| crashed node was the DC | runs |",
              "|---|---:|---:|---:|---:|---:|"]
    for agent in measured:
        done = [r for r in runs if r.agent == agent and r.ok]
        failed = len([r for r in runs if r.agent == agent]) - len(done)
        lost = ("not counted" if not agents.replicated(agent)
                else f"{sum(r.lost or 0 for r in done)} of {sum(r.acked for r in done)}")
        dc = len([r for r in done if "DC election" in (r.moments or {})])
        lines.append(f"| {LABELS[agent]} | {_s(stage_values(runs, agent, 'crash', 'first write'))} "
                     f"| {_s(long_lived_gaps(runs, agent))} | {lost} | {dc} | {len(done)}{f' ({failed} failed)' if failed else ''} |")
    added = added_to_floor(runs, "crash", "first write")
    own = added_to_floor(runs, "notify began", "first write")
    if added:
        lines += ["", f"Added to the floor (difference of the medians; target: less than "
                      f"{TARGET_S} s). The second column leaves out what comes before the "
                      "first notification, Corosync's and Pacemaker's alone:", "",
                  "| agent | crash to first write, s | first notification to first write, s "
                  "| met? |", "|---|---:|---:|---|"]
        lines += [f"| {LABELS[agent]} | {value:+.2f} | "
                  f"{'-' if agent not in own else f'{own[agent]:+.2f}'} "
                  f"| {'yes' if value < TARGET_S else 'no'} |" for agent, value in added.items()]
    lines += ["", "Where the time goes (from the new promoted node's pacemaker.log), s: median "
                  "(min-max):", "", "| stage | " + " | ".join(LABELS[a] for a in measured) + " |",
              "|---|" + "---:|" * len(measured)]
    lines += [f"| {label} | " + " | ".join(_s(stage_values(runs, a, start, end))
                                         for a in measured) + " |"
              for label, start, end in STAGES]
    lines += ["", "Runs in order:", ""]
    lines += [f"- {r.index} {r.agent}: {r.outcome}"
              + (f", first write {r.first_write:.2f} s" if r.first_write is not None else "")
              + (f", long-lived client's outage {r.long_lived_gap:.2f} s"
                 if r.long_lived_gap is not None else "")
              + (f", lost {r.lost} of {r.acked}" if r.lost is not None else "")
              + "".join(f", {name} {value:.2f}" for name, value in (r.moments or {}).items()
                        if name != "first write")
              for r in runs]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        print(markdown([Run(**r) for r in saved["runs"]], saved["machine"], saved["command"]))
        return 0
    command = "python -m bench.failover " + shlex.join(argv if argv is not None else sys.argv[1:])
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)

    # Every node namespace this process makes (also those a crash recreates) gets them.
    network.NODE_SYSCTLS.update(s.partition("=")[::2] for s in args.node_sysctl)
    info = report.machine()
    info["lab"] = f"{args.nodes} nodes, token 1000 ms, monitors 5 s promoted / 7 s unpromoted"
    info["checkout"] = checkout()
    info["sysctls in the nodes"] = ", ".join(f"{k}={v}" for k, v in network.NODE_SYSCTLS.items())
    runs = in_turn(args.runs, args.agents,
                   lambda agent, index: one_run(agent, index, args.nodes, args.provider, log), log, "bench.failover")
    if runs is None:
        return 2
    info["runs"] = f"{args.runs} per agent ({len(runs)} done)"
    info["bench duration"] = f"{time.monotonic() - began:.0f} s"
    text = markdown(runs, info, command)
    save(args.output, "failover", info, command, runs, text)
    print(text)
    return 0 if runs and all(r.ok for r in runs) and len(runs) == args.runs * len(args.agents) \
        else 1


if __name__ == "__main__":
    sys.exit(main())
