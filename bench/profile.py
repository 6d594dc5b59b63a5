"""``python -m bench.profile``: where our agent's monitor and promote spend their time.

Sets up the benchmark's pair with our agent (node1 promoted, node2 replicating), then runs
our agent there under ``python3 -X importtime`` (what the imports cost, by top-level module)
and under ``cProfile`` (what the action itself does, by cumulative time), times its monitor
beside OVN's and ``bench/floor.py`` (the reads a monitor cannot avoid, and nothing else), and
writes it all to ``--output``/profile.txt. Same requirements as ``python -m bench.run``.
"""

from __future__ import annotations

import argparse
import io
import pstats
import statistics
import sys
from pathlib import Path

from .pair import OURS, THEIRS, BenchError, Node, Pair, notify_vars
from .run import check_host
from .scenarios import PROMOTED_INTERVAL_MS, UNPROMOTED_INTERVAL_MS, Bench, Recorder

TOP = 25
FLOOR = Path(__file__).resolve().parent / "floor.py"
FLOOR_RUNS = 30
# The interpreter and its flags as our agent's #! line gives them (python3 -IS: no site), so
# that what is profiled is what Pacemaker runs.
AGENT_PYTHON = Path(OURS).read_text().splitlines()[0].removeprefix("#!").split()


def import_costs(node: Node, action: str, interval_ms: int) -> str:
    """The modules the agent imports, heaviest first (cumulative microseconds, as -X importtime)."""
    env = node.env("ours", interval_ms)
    timing = node.run([*AGENT_PYTHON, "-X", "importtime", OURS, action], env)
    rows = []
    for line in timing.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, self_us, cumulative, name = (part.strip() for part in line.replace("import time:", "|").split("|"))
        depth = (len(line.rsplit("|", 1)[1]) - len(line.rsplit("|", 1)[1].lstrip())) // 2
        rows.append((int(cumulative), int(self_us), depth, name))
    total = sum(c for c, _, d, _ in rows if d == 0)
    lines = [f"imports of `{action}` (interval {interval_ms} ms): {total / 1000:.1f} ms in all; "
             f"the whole call took {timing.wall * 1000:.1f} ms wall, {timing.cpu * 1000:.1f} ms CPU",
             "  cumulative  self  module (depth)"]
    for cumulative, self_us, depth, name in sorted(rows, reverse=True)[:TOP]:
        lines.append(f"  {cumulative / 1000:8.1f} {self_us / 1000:6.1f}  {'  ' * depth}{name}")
    return "\n".join(lines)


def profile(node: Node, action: str, interval_ms: int, workdir: Path, notify: dict[str, str] | None = None) -> str:
    out = workdir / f"{action}-{node.name}.prof"
    env = node.env("ours", interval_ms, notify=notify)
    timing = node.run([*AGENT_PYTHON, "-m", "cProfile", "-o", str(out), OURS, action], env)
    text = io.StringIO()
    stats = pstats.Stats(str(out), stream=text)
    stats.sort_stats("cumulative").print_stats(TOP)
    body = "\n".join(ln for ln in text.getvalue().splitlines() if ln.strip())
    return f"cProfile of `{action}` on {node.name} (rc {timing.rc}, {timing.wall * 1000:.1f} ms wall):\n{body}"


def floor_comparison(node: Node, interval_ms: int) -> str:
    """Our monitor, OVN's and the floor (bench/floor.py: the unavoidable reads, nothing
    else), in turn on the same node: what a lean monitor path could reach."""
    variants = {
        "ours": ([OURS, "monitor"], node.env("ours", interval_ms)),
        "OVN's": ([THEIRS, "monitor"], node.env("theirs", interval_ms)),
        "floor.py": ([str(FLOOR), str(node.rundir)], node.env("ours", interval_ms)),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(FLOOR_RUNS):
        for name, (argv, env) in variants.items():
            timing = node.run(argv, env)
            if timing.rc not in (0, 8):
                raise BenchError(f"{name} monitor on {node.name}: rc {timing.rc}: {timing.stderr.strip()[-300:]}")
            samples[name].append((timing.wall, timing.cpu))
    lines = [f"monitor on {node.name} (interval {interval_ms} ms), median of {FLOOR_RUNS} runs each, in turn:"]
    for name, values in samples.items():
        wall = statistics.median(v[0] for v in values) * 1000
        cpu = statistics.median(v[1] for v in values) * 1000
        lines.append(f"  {name:9s} {wall:6.1f} ms wall {cpu:6.1f} ms CPU")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    try:
        check_host()
        args.output.mkdir(parents=True, exist_ok=True)
        sections = []
        with Pair() as pair:
            bench = Bench(pair, Recorder(), log=lambda m: None)
            bench.load(None)
            one, two = pair.nodes
            sections.append(floor_comparison(two, UNPROMOTED_INTERVAL_MS))
            sections.append(import_costs(two, "monitor", UNPROMOTED_INTERVAL_MS))
            sections.append(import_costs(one, "monitor", 0))
            sections.append(profile(one, "monitor", PROMOTED_INTERVAL_MS, pair.tmp))
            sections.append(profile(two, "monitor", UNPROMOTED_INTERVAL_MS, pair.tmp))
            sections.append(profile(two, "monitor", 0, pair.tmp))
            bench.switchover("ours")  # node2 promoted: now profile a promote back to node1
            bench.settle()
            lists = dict(active=[one, two], promoted=[two], unpromoted=[one], demote=[two], promote=[one])
            pair.forget_upstream_repl_info()
            two.set_vip(False)
            sections.append(profile(two, "demote", 0, pair.tmp, notify_vars("pre", "demote", **lists)))
            sections.append(profile(one, "promote", 0, pair.tmp, notify_vars("pre", "promote", **lists)))
        text = "\n\n".join(sections) + "\n"
        (args.output / "profile.txt").write_text(text)
        print(text)
        return 0
    except BenchError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
