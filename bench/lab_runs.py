"""What the lab benchmarks (failover.py, switchover.py, raft.py) share: runs taken in turn, so
that a change of the machine's load hits every agent or configuration alike; the record of one
fault as the drill's clients saw it, and its table, so that our agent's switchovers and crashes
and a RAFT cluster's leader changes are measured and reported by the same code; the long-lived
client's options; the results written as JSON (every run) and Markdown (the report)."""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, TypeVar

from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT, StepResult
from ocf_agents.lab.idl_writer import IDL, KINDS, ClientSettings
from ocf_agents.lab.layout import LabError

from . import report

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def in_turn(rounds: int, names: list[str], one: Callable[[str, int], T], log: Callable[[str], None],
            prog: str) -> list[T] | None:
    """``one(name, index)`` for each of ``names`` in turn, ``rounds`` times (A B A B ...); on
    a lab error what was done so far (None when nothing was: the caller exits 2)."""
    runs: list[T] = []
    try:
        for index in range(1, rounds + 1):
            for name in names:
                log(f"run {index}/{rounds}: {name}")
                runs.append(one(name, index))
                done = runs[-1] if isinstance(runs[-1], list) else [runs[-1]]
                log(f"run {index} {name}: {'; '.join(getattr(r, 'outcome', '') for r in done)}")
    except LabError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return runs or None
    return runs


@dataclass
class Run:
    """One fault (a switchover, a crash, a leader transfer) in one configuration, as the
    drill's two clients saw it."""

    configuration: str
    step: str
    index: int
    ok: bool
    outcome: str
    one_shot_gap: float | None = None  # the one-shot writer's longest time without an ack, s
    long_lived_gap: float | None = None  # the long-lived client's
    serving: float | None = None  # from the fault until the new promoted node or leader serves, s
    transitions: int | None = None  # Pacemaker's, from the DC's log (None: no Pacemaker)
    aborts: int | None = None
    lost: int = 0  # acknowledged writes missing afterwards, both clients
    acked: int = 0

    @classmethod
    def of(cls, configuration: str, index: int, result: StepResult, serving: str) -> Run:
        """The record of a drill step; ``serving`` names the timing that says when the new
        promoted node (or leader) served."""
        clients = result.clients
        return cls(configuration, result.name, index, result.ok, result.outcome,
                   clients[ONE_SHOT].gap, clients[LONG_LIVED].gap, result.timings.get(serving),
                   result.facts.get("transitions"), result.facts.get("aborts"),
                   sum(t.lost or 0 for t in clients.values()), sum(t.acked for t in clients.values()))

    @classmethod
    def failed(cls, configuration: str, index: int, steps: list[str], why: str) -> list[Run]:
        """The records of steps that could not run (the bring-up failed)."""
        return [cls(configuration, step, index, False, why) for step in steps]


def spread(values: list[float]) -> str:
    """Median (min-max), or "-" without values."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})" if values else "-"


def column(runs: list[Run], configuration: str, step: str, field: str) -> list[float]:
    """The values of ``field`` in the runs of the configuration's step that measured it: also
    those that failed once measured (a step that lost acknowledged writes fails, and its
    clients' wait is still what they waited)."""
    return [value for r in runs if (r.configuration, r.step) == (configuration, step)
            and (value := getattr(r, field)) is not None]


TABLE_HEAD = ["| configuration | step | one-shot gap | long-lived gap | fault to serving | transitions | aborts "
              "| lost / acknowledged | runs |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]


def table(runs: list[Run]) -> list[str]:
    """One row per configuration and step, in the order they first ran: medians (min-max) and
    the writes lost over every run, failed ones included (losing one fails a step)."""
    rows = list(dict.fromkeys((r.configuration, r.step) for r in runs))
    lines = list(TABLE_HEAD)
    for configuration, step in rows:
        mine = [r for r in runs if (r.configuration, r.step) == (configuration, step)]
        failed = len([r for r in mine if not r.ok])
        cells = [spread(column(runs, configuration, step, f))
                 for f in ("one_shot_gap", "long_lived_gap", "serving", "transitions", "aborts")]
        lines.append(f"| {configuration} | {step} | {' | '.join(cells)} | {sum(r.lost for r in mine)} / "
                     f"{sum(r.acked for r in mine)} | {len(mine)}{f' ({failed} failed)' if failed else ''} |")
    return lines


def run_lines(runs: list[Run]) -> list[str]:
    """Every run in order, with whatever it measured."""
    skip = ("configuration", "step", "index", "ok", "outcome")
    def shown(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    return [f"- {r.index} {r.configuration} {r.step}: {r.outcome}; " + ", ".join(
        f"{f.name} {shown(value)}" for f in fields(r) if f.name not in skip and (value := getattr(r, f.name)) is not None)
        for r in runs]


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """The long-lived client the drill runs beside the one-shot writer (the drill's own
    ``--long-lived`` and ``--client-library``)."""
    parser.add_argument("--long-lived", choices=list(KINDS), default=IDL,
                        help="the long-lived client: idl (default, the bare OVS IDL) or ovsdbapp "
                             "(OpenStack's, Debian's python3-ovsdbapp unless --client-library)")
    parser.add_argument("--client-library", metavar="DIR",
                        help="a directory searched before Debian's packages by the long-lived "
                             "client: another ovsdbapp, e.g. pip install --no-deps --target DIR "
                             "ovsdbapp==2.2.1")


def client_settings(args: argparse.Namespace) -> ClientSettings:
    return ClientSettings(kind=args.long_lived,
                          library=str(Path(args.client_library).resolve()) if args.client_library else None)


def client_info(args: argparse.Namespace) -> str:
    """The long-lived client, for the report's header."""
    return args.long_lived + (f" from {args.client_library}" if args.client_library else " (Debian's)")


def checkout() -> str:
    """The commit measured (our agent is this checkout's), marked when files were changed."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + (" (modified)" if git("status", "--porcelain",
                                                                      "--untracked-files=no")
                                                   else "")


def markdown(title: str, about: str, runs: list[Run], info: dict[str, str], command: str) -> str:
    """A fault bench's report: its command and what it did, the machine, the table, every run."""
    lines = [f"# {title}", "", f"Produced by `{command}`. {about}", "",
             *(f"- {key}: {value}" for key, value in info.items()),
             "", *table(runs), "", "Runs in order:", "", *run_lines(runs)]
    return "\n".join(lines) + "\n"


Log = Callable[[str], None]


def run_bench(prog: str, stem: str, args: argparse.Namespace, argv: list[str] | None, lab: str, names: list[str],
              one: Callable[[str, int, Log], list[Run]], title: str, about: str) -> int:
    """A fault bench's main: ``one(name, index, log)`` for each of ``names`` in turn,
    ``args.runs`` times, the machine and the lab (``lab``) described, the report (``title``,
    ``about``: :func:`markdown`) printed and saved as ``stem``.md and .json in
    ``args.output``; the exit status (2: nothing ran, 1: a run failed)."""
    command = f"python -m {prog} " + shlex.join(argv if argv is not None else sys.argv[1:])
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)

    info = report.machine()
    info.update({"lab": lab, "checkout": checkout(), "long-lived client": client_info(args)})
    done = in_turn(args.runs, names, lambda name, index: one(name, index, log), log, prog)
    if done is None:
        return 2
    runs = [run for runs in done for run in runs]
    info["runs"] = f"{args.runs} per configuration ({len(done)} done)"
    info["bench duration"] = f"{time.monotonic() - began:.0f} s"
    text = markdown(title, about, runs, info, command)
    save(args.output, stem, info, command, runs, text)
    print(text)
    return 0 if runs and all(r.ok for r in runs) and len(done) == args.runs * len(names) else 1


def save(output: Path, stem: str, info: dict[str, str], command: str, runs: list[Any], text: str) -> None:
    """``STEM.json`` (the machine, the command, every run) and ``STEM.md`` (``text``)."""
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{stem}.json").write_text(json.dumps(
        {"machine": info, "command": command, "runs": [asdict(r) for r in runs]}, indent=1))
    (output / f"{stem}.md").write_text(text)
