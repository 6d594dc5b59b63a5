"""What the lab benchmarks (failover.py, switchover.py) share: runs taken in turn, so that a
change of the machine's load hits every agent or configuration alike, and their results
written as JSON (every run) and Markdown (the report)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, TypeVar

from ocf_agents.lab.layout import LabError

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
                log(f"run {index} {name}: {getattr(runs[-1], 'outcome', '')}")
    except LabError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return runs or None
    return runs


def save(output: Path, stem: str, info: dict[str, str], command: str, runs: list[Any], text: str) -> None:
    """``STEM.json`` (the machine, the command, every run) and ``STEM.md`` (``text``)."""
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{stem}.json").write_text(json.dumps(
        {"machine": info, "command": command, "runs": [asdict(r) for r in runs]}, indent=1))
    (output / f"{stem}.md").write_text(text)
