"""``python -m bench.switchover``: planned switchovers in the lab, per configuration, ours and
OVN's agent in turn (``make bench-switchover``).

Each run is a fresh lab (``ocf-agents lab up --agent X``), the drill's bring-up in one of the
configurations of docs/guide.md ("A switchover in one transition": documented, fast, held),
optionally a database of ``--ports`` logical switch ports, then the drill's switchover step
(``crm_resource --move ... --promoted``, cleared once the VIP is up), with ``--crash`` the
drill's crash-promoted step after it (the new promoted node powered off, fenced, its successor
promoted, the node booted again), and ``lab down``. Per step: the one-shot writer's and the
long-lived client's (``--long-lived``: the bare IDL or OpenStack's ovsdbapp) longest time
without an acknowledged write from the fault on, the time from the fault to the VIP's start
(the promote's end when the promoted instance holds the address), the transitions the DC
calculated and aborted in between, and acknowledged writes lost. The configurations take turns
(A B C D A B C D ...), so that a change of the machine's load hits all alike; bench/raft.py
measures OVN's clustered databases with the same clients and the same table.

Needs root and the whole lab: hold the lab's lock around it on a shared machine
(``flock /run/ocfa-lab.lock python -m bench.switchover``). Writes switchover.md and
switchover.json into --output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from ocf_agents.lab import agents
from ocf_agents.lab import lab as lab_mod
from ocf_agents.lab.drill import Drill
from ocf_agents.lab.drill.resources import DOCUMENTED, PROFILES
from ocf_agents.lab.idl_writer import ClientSettings

from .failover import WRITER_SPACING
from .lab_runs import Run, add_client_options, client_settings, run_bench

# What is compared: (agent, configuration); OVN's agent runs the documented one only.
CONFIGURATIONS = {
    "ovn": (agents.OVN, DOCUMENTED),
    **{profile: (agents.OURS, profile) for profile in PROFILES},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.switchover", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="switchovers per configuration (default 5)")
    parser.add_argument("--configurations", default=",".join(CONFIGURATIONS),
                        help=f"which, in this order (default {','.join(CONFIGURATIONS)})")
    parser.add_argument("--ports", type=int, default=1000, help="logical switch ports loaded first (default 1000)")
    parser.add_argument("--provider", default=lab_mod.LAB_PROVIDER,
                        help="provider of our agents (default: the checkout's, linked for the lab)")
    parser.add_argument("--crash", action="store_true",
                        help="after the switchover, crash the promoted node in the same lab (the drill's "
                             "crash-promoted step): each configuration's clients after a crash too")
    add_client_options(parser)
    parser.add_argument("--output", type=Path, default=Path("build/bench"), help="directory of the results")
    args = parser.parse_args(argv)
    args.configurations = [c.strip() for c in args.configurations.split(",") if c.strip()]
    unknown = set(args.configurations) - set(CONFIGURATIONS)
    if unknown:
        parser.error(f"--configurations: unknown {', '.join(sorted(unknown))} (known: {', '.join(CONFIGURATIONS)})")
    return args


STEPS = {"switchover": "switchover", "crash-promoted": "crash_promoted"}
# When the new promoted node serves: the VIP's start (the promote's end with the held address).
SERVING = "VIP started"


def one_run(configuration: str, index: int, ports: int, provider: str, client: ClientSettings, crash: bool,
            log: Callable[[str], None]) -> list[Run]:
    """A fresh lab of the configuration's agent: bring-up, one switchover (then a crash of the
    promoted node with ``crash``), lab down."""
    agent, profile = CONFIGURATIONS[configuration]
    steps = list(STEPS) if crash else ["switchover"]
    lab = lab_mod.up(3, provider, agent, say=log)
    try:
        drill = Drill(lab, say=log, writer_spacing=WRITER_SPACING, ports=ports, profile=profile, client=client)
        try:
            brought_up = drill.step("bring-up", drill.bring_up)
            if not brought_up.ok:
                return Run.failed(configuration, index, steps, f"bring-up: {brought_up.outcome}")
            return [Run.of(configuration, index, drill.step(step, getattr(drill, STEPS[step])), SERVING)
                    for step in steps]
        finally:
            drill.stop_clients()
    finally:
        lab_mod.down(say=log)


TITLE = "Planned switchovers in the lab, per configuration"
ABOUT = ("Each run: a fresh 3-node lab, the drill's bring-up in the configuration, one `crm_resource --move "
         "--promoted` (then, with --crash, the promoted node powered off). Seconds from the fault: the longest "
         "time without an acknowledged write of the one-shot writer (an ovn-nbctl per write) and of the "
         "long-lived client, and the VIP's start (the promote's end with the held address); transitions and "
         "aborts from the DC's log. Median (min-max).")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    client = client_settings(args)
    return run_bench("bench.switchover", "switchover", args, argv,
                     f"3 nodes, monitors 5 s promoted / 7 s unpromoted, {args.ports} logical switch ports",
                     args.configurations, lambda name, index, log: one_run(
                         name, index, args.ports, args.provider, client, args.crash, log), TITLE, ABOUT)


if __name__ == "__main__":
    sys.exit(main())
