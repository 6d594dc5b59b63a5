"""``python -m bench.run``: ours and OVN's ovndb-servers agents, side by side (``make bench``).

Needs root (network namespaces), ovn-central's ovsdb-server/ovn-ctl, OVN's agent and
Pacemaker's command-line tools. Writes results.json, report.md and performance.png into
--output. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from . import ovsdb_rpc, report
from .pair import SEND_ARP, THEIRS, BenchError, Pair
from .options import counts, seconds
from .scenarios import Bench, Recorder

NEEDED = ("ovsdb-server", "ovs-appctl", "ovsdb-tool", "ip", "nsenter", "cibadmin", "crm_attribute")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per agent of each base step (default 10)")
    parser.add_argument("--sizes", type=counts, default="1000,10000,100000",
                        help="northbound sizes in logical switch ports, comma-separated ('' for none)")
    parser.add_argument("--scale-runs", type=counts, default="5,3,2",
                        help="runs per agent for each size, comma-separated (the last repeats)")
    parser.add_argument("--output", type=Path, default=Path("build/bench"), help="directory of the results")
    parser.add_argument("--repoint-delay", type=seconds, default=0.0, metavar="SECONDS",
                        help="hold the old node's post-promote notification back until the client's first write "
                             "on the new node and this long (default 0: at once, as Pacemaker runs it)")
    args = parser.parse_args(argv)
    runs = args.scale_runs or [1]
    args.scale_runs = [runs[min(i, len(runs) - 1)] for i in range(len(args.sizes))]
    return args


def check_host() -> None:
    if os.geteuid() != 0:
        raise BenchError("needs root: each node is a network namespace")
    missing = [p for p in NEEDED if not shutil.which(p)] + [p for p in (THEIRS, SEND_ARP) if not os.path.exists(p)]
    if missing:
        raise BenchError(f"missing: {', '.join(missing)} (make deps installs them)")


def make_seed(directory: Path, size: int) -> Path:
    seed = directory / f"nb-{size}.db"
    ovsdb_rpc.make_seed(size, seed)
    return seed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m bench.run " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)

    try:
        check_host()
        info = report.machine()
        rec = Recorder()
        seeds = args.output / "seeds"
        seeds.mkdir(parents=True, exist_ok=True)
        switchovers = max(1, args.runs // 2)
        with Pair() as pair:
            bench = Bench(pair, rec, log, args.repoint_delay)
            phases = [
                ("empty databases: bootstrap", lambda: bench.load(None)),
                (f"monitor x{args.runs}", lambda: bench.monitors(args.runs)),
                (f"stop, probe, start x{args.runs}", lambda: bench.start_stop(args.runs)),
                (f"switchover (demote, promote, notifications, a writing client) x{switchovers * 3} + "
                 f"{switchovers} to each agent's steady state", lambda: bench.switchovers(switchovers)),
                ("forced fallback: our switchover with the backup replicating from the VIP",
                 lambda: bench.forced_fallback()),
                (f"meta-data, validate-all x{args.runs}", lambda: bench.stateless(args.runs)),
            ]
            for size, runs in zip(args.sizes, args.scale_runs):
                phases += [
                    (f"{size} ports: load", lambda size=size: bench.load(make_seed(seeds, size))),
                    (f"{size} ports: monitor x{runs}", lambda size=size, runs=runs: bench.monitors(runs, size)),
                    (f"{size} ports: stop, probe, start x{runs}",
                     lambda size=size, runs=runs: bench.start_stop(runs, size)),
                    (f"{size} ports: switchover x{max(1, runs // 2) * 3} + {max(1, runs // 2)} to each agent's "
                     "steady state", lambda size=size, runs=runs: bench.switchovers(max(1, runs // 2), size)),
                    (f"{size} ports: new backup x{runs}", lambda size=size, runs=runs: bench.catch_up(runs, size)),
                    # last: the fallback copies the whole database, and a copy that fails leaves no
                    # promoted node for what would follow (seen at 100 000 ports: the promote after it)
                    (f"{size} ports: forced fallback", lambda size=size: bench.forced_fallback(size)),
                ]
            for label, phase in phases:
                log(label)
                try:
                    phase()
                except (BenchError, ovsdb_rpc.RpcError, OSError) as err:
                    rec.failures.append(f"the run stopped at '{label}': {err}")
                    log(f"stopped: {err}")
                    break
        info["runs"] = f"{args.runs} per agent (switchovers: {switchovers * 3})" + (
            "; per size: " + ", ".join(f"{s}: {r}" for s, r in zip(args.sizes, args.scale_runs)) if args.sizes else "")
        info["bench duration"] = f"{time.monotonic() - began:.0f} s"
        path = report.save(rec.samples, rec.switchovers, info, rec.failures, command, args.output)
        if report.chart(rec.samples, args.output / "performance.png"):
            log(f"chart: {args.output / 'performance.png'}")
        else:
            log("no chart: matplotlib is not installed (make bench installs bench/requirements.txt)")
        print(path.read_text())
        return 1 if rec.failures else 0
    except BenchError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
