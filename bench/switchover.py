"""``python -m bench.switchover``: planned switchovers in the lab, per configuration, ours and
OVN's agent in turn (``make bench-switchover``).

Each run is a fresh lab (``ocf-agents lab up --agent X``), the drill's bring-up in one of the
configurations of docs/guide.md ("A switchover in one transition": documented, fast, held),
optionally a database of ``--ports`` logical switch ports, then the drill's switchover step
(``crm_resource --move ... --promoted``, cleared once the VIP is up) and ``lab down``. Per run:
the one-shot writer's and the long-lived client's longest time without an acknowledged write
from the move on, the time from the move to the VIP's start (the promote's end when the
promoted instance holds the address), the transitions the DC calculated and aborted in
between, and acknowledged writes lost. The configurations take turns (A B C D A B C D ...), so
that a change of the machine's load hits all alike.

Needs root and the whole lab: hold the lab's lock around it on a shared machine
(``flock /run/ocfa-lab.lock python -m bench.switchover``). Writes switchover.md and
switchover.json into --output.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ocf_agents.lab import agents
from ocf_agents.lab import lab as lab_mod
from ocf_agents.lab.drill import Drill
from ocf_agents.lab.drill.resources import DOCUMENTED, PROFILES
from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT

from . import report
from .failover import WRITER_SPACING, checkout
from .lab_runs import in_turn, save

# What is compared: (agent, configuration); OVN's agent runs the documented one only.
CONFIGURATIONS = {
    "ovn": (agents.OVN, DOCUMENTED),
    **{profile: (agents.OURS, profile) for profile in PROFILES},
}


@dataclass
class Run:
    """One switchover in one configuration."""

    configuration: str
    index: int
    ok: bool
    outcome: str
    one_shot_gap: float | None = None
    long_lived_gap: float | None = None
    vip_started: float | None = None  # from the move, s
    transitions: int | None = None
    aborts: int | None = None
    lost: int = 0
    acked: int = 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.switchover", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="switchovers per configuration (default 5)")
    parser.add_argument("--configurations", default=",".join(CONFIGURATIONS),
                        help=f"which, in this order (default {','.join(CONFIGURATIONS)})")
    parser.add_argument("--ports", type=int, default=1000, help="logical switch ports loaded first (default 1000)")
    parser.add_argument("--provider", default=lab_mod.LAB_PROVIDER,
                        help="provider of our agents (default: the checkout's, linked for the lab)")
    parser.add_argument("--output", type=Path, default=Path("build/bench"), help="directory of the results")
    args = parser.parse_args(argv)
    args.configurations = [c.strip() for c in args.configurations.split(",") if c.strip()]
    unknown = set(args.configurations) - set(CONFIGURATIONS)
    if unknown:
        parser.error(f"--configurations: unknown {', '.join(sorted(unknown))} (known: {', '.join(CONFIGURATIONS)})")
    return args


def one_run(configuration: str, index: int, ports: int, provider: str, log: Callable[[str], None]) -> Run:
    """A fresh lab of the configuration's agent: bring-up, one switchover, lab down."""
    agent, profile = CONFIGURATIONS[configuration]
    lab = lab_mod.up(3, provider, agent, say=log)
    try:
        drill = Drill(lab, say=log, writer_spacing=WRITER_SPACING, ports=ports, profile=profile)
        try:
            brought_up = drill.step("bring-up", drill.bring_up)
            if not brought_up.ok:
                return Run(configuration, index, False, f"bring-up: {brought_up.outcome}")
            moved = drill.step("switchover", drill.switchover)
        finally:
            drill.stop_clients()
        clients = moved.clients
        return Run(configuration, index, moved.ok, moved.outcome, clients[ONE_SHOT].gap, clients[LONG_LIVED].gap,
                   moved.timings.get("VIP started"), moved.facts.get("transitions"), moved.facts.get("aborts"),
                   sum(t.lost or 0 for t in clients.values()), sum(t.acked for t in clients.values()))
    finally:
        lab_mod.down(say=log)


def _s(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})" if values else "-"


def column(runs: list[Run], configuration: str, field: str) -> list[float]:
    return [value for r in runs if r.ok and r.configuration == configuration
            and (value := getattr(r, field)) is not None]


def markdown(runs: list[Run], info: dict[str, str], command: str) -> str:
    measured = [c for c in CONFIGURATIONS if any(r.configuration == c for r in runs)]
    lines = ["# Planned switchovers in the lab, per configuration", "",
             f"Produced by `{command}`. Each run: a fresh 3-node lab, the drill's bring-up in the "
             "configuration, one `crm_resource --move --promoted`. Seconds from the move: the "
             "longest time without an acknowledged write of the one-shot writer (an ovn-nbctl per "
             "write) and of the long-lived client, and the VIP's start (the promote's end with "
             "the held address); transitions and aborts from the DC's log. Median (min-max).", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", "| configuration | one-shot gap | long-lived gap | move to VIP up | transitions | aborts "
              "| lost / acknowledged | runs |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in measured:
        done = [r for r in runs if r.configuration == c and r.ok]
        failed = len([r for r in runs if r.configuration == c]) - len(done)
        lines.append(f"| {c} | {_s(column(runs, c, 'one_shot_gap'))} | {_s(column(runs, c, 'long_lived_gap'))} "
                     f"| {_s(column(runs, c, 'vip_started'))} | {_s(column(runs, c, 'transitions'))} "
                     f"| {_s(column(runs, c, 'aborts'))} | {sum(r.lost for r in done)} / {sum(r.acked for r in done)} "
                     f"| {len(done)}{f' ({failed} failed)' if failed else ''} |")
    lines += ["", "Runs in order:", ""]
    lines += [f"- {r.index} {r.configuration}: {r.outcome}; " + ", ".join(
        f"{name} {value}" for name, value in asdict(r).items()
        if name not in ("configuration", "index", "ok", "outcome") and value is not None) for r in runs]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m bench.switchover " + shlex.join(argv if argv is not None else sys.argv[1:])
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)

    info = report.machine()
    info["lab"] = f"3 nodes, monitors 5 s promoted / 7 s unpromoted, {args.ports} logical switch ports"
    info["checkout"] = checkout()
    runs = in_turn(args.runs, args.configurations,
                   lambda name, index: one_run(name, index, args.ports, args.provider, log), log, "bench.switchover")
    if runs is None:
        return 2
    info["runs"] = f"{args.runs} per configuration ({len(runs)} done)"
    info["bench duration"] = f"{time.monotonic() - began:.0f} s"
    text = markdown(runs, info, command)
    save(args.output, "switchover", info, command, runs, text)
    print(text)
    return 0 if runs and all(r.ok for r in runs) and len(runs) == args.runs * len(args.configurations) else 1


if __name__ == "__main__":
    sys.exit(main())
