"""``python -m bench.chart``: docs/performance.png, how long clients wait in a planned move and
after a crash, from the lab benches' results (``make bench-chart``).

Reads the JSON files bench/switchover.py (with ``--crash``) and bench/raft.py write, and draws
one panel per kind of fault (planned: a switchover or a leader transfer; a crash of the node
that served), a row per configuration, a bar per client: the median of its longest time
without an acknowledged write, the whiskers its minimum and maximum. matplotlib (Agg, no
display), as `make bench`'s chart; bench/requirements.txt.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from .lab_runs import Run, column

# Row labels, top to bottom, for the configurations the benches name.
LABELS = {
    "ovn": "OVN's agent\n(documented setup)",
    "documented": "ours, documented\n(notify, IPaddr2)",
    "fast": "ours, fast\n(no notify, IPaddr2)",
    "held": "ours, held address\n(no notify, no IPaddr2)",
    "raft": "OVN clustered (RAFT),\n3 remotes",
}
# The panels: a title and the step of each bench that is that kind of fault.
PANELS = (
    ("planned: switchover / leader transfer", ("switchover", "leader-transfer")),
    ("crash of the serving node", ("crash-promoted", "crash-leader")),
)
CLIENTS = (("one_shot_gap", "one-shot writer: an ovn-nbctl per write", "#4878a8"),
           ("long_lived_gap", "long-lived client", "#e0913a"))


def load(paths: list[Path]) -> tuple[list[Run], str, str]:
    """Every run of the files, the long-lived client they name (the first file's, the
    library's directory without its path) and the first file's date."""
    runs: list[Run] = []
    machines = []
    for path in paths:
        saved = json.loads(path.read_text())
        runs += [Run(**r) for r in saved["runs"]]
        machines.append(saved["machine"])
    client = re.sub(r" from \S*/", " from ", machines[0].get("long-lived client", "")) if machines else ""
    return runs, client, machines[0].get("date", "") if machines else ""


def bars(runs: list[Run], steps: tuple[str, ...], field: str) -> list[tuple[str, float, float, float]]:
    """(configuration, median, min, max) of ``field`` for each configuration with a step of
    ``steps``, in LABELS's order."""
    found = []
    for configuration in LABELS:
        values = [v for step in steps for v in column(runs, configuration, step, field)]
        if values:
            found.append((configuration, statistics.median(values), min(values), max(values)))
    return found


def draw(runs: list[Run], client: str, title: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [c for c in LABELS if any(r.configuration == c for r in runs)]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(11, 1.6 + 0.75 * len(rows)), sharey=True)
    height = 0.38
    for ax, (panel, steps) in zip(axes, PANELS):
        for offset, (field, label, colour) in zip((-height / 2, height / 2), CLIENTS):
            found = bars(runs, steps, field)
            ys = [rows.index(c) + offset for c, _, _, _ in found]
            medians = [m for _, m, _, _ in found]
            errors = [[m - lo for _, m, lo, _ in found], [hi - m for _, m, _, hi in found]]
            ax.barh(ys, medians, height, xerr=errors, color=colour, capsize=3,
                    label=f"{label}: {client}" if field == "long_lived_gap" and client else label)
            for y, (_, m, _, hi) in zip(ys, found):  # the median, right of its whisker
                ax.annotate(f"{m:.2f}", (hi, y), xytext=(4, 0), textcoords="offset points", fontsize=8,
                            va="center")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("longest time without an acknowledged write, s")
        ax.set_xlim(0, ax.get_xlim()[1] * 1.08)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(rows)), [LABELS[c] for c in rows], fontsize=8)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chart", description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="switchover.json, raft.json")
    parser.add_argument("-o", "--output", type=Path, default=Path("build/bench/performance.png"))
    args = parser.parse_args(argv)
    runs, client, date = load(args.results)
    draw(runs, client, f"3-node lab, 1 000 logical switch ports; median (bar) and min-max of each setup's runs; {date}",
         args.output)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
