"""What a step records, how it ends, and the summary table printed after the drill.

A step's outcome is an exception (:class:`StepFailed`, :class:`StepSkipped`) rather than a
return value, so that a scenario reads as the sequence of things it expects, each failing the
step where it does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..writer import Writer


class StepFailed(Exception):
    """The step's outcome is not what a healthy HA setup gives (the reason says what)."""


class StepSkipped(Exception):
    """The step does not apply to this lab (the reason says why)."""


@dataclass
class StepResult:
    name: str
    ok: bool = False
    outcome: str = ""
    promoted_before: str = "-"
    promoted_after: str = "-"
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    acked: int = 0
    lost: int = 0
    # time.time() of the step's key moments (not printed), to match against the cluster's logs
    moments: dict[str, float] = field(default_factory=dict)


class Record(Protocol):
    """What the summary reads of a drill."""

    results: list[StepResult]
    writer: Writer
    known_lost: set[int]
    promotions: list[tuple[float, str]]


# The summary's columns, in order: header and cell of a step. A new column is one more line.
COLUMNS: tuple[tuple[str, Callable[[StepResult], str]], ...] = (
    ("step", lambda r: r.name),
    ("result", lambda r: r.outcome.split(":")[0]),
    ("promoted", lambda r: f"{r.promoted_before} -> {r.promoted_after}"),
    ("timings (s)", lambda r: ", ".join(f"{k} {v:.2f}" for k, v in r.timings.items()
                                        if k != "step")),
    ("acked", lambda r: str(r.acked)),
    ("lost", lambda r: str(r.lost)),
)
FACTS_UNDER = "timings (s)"  # a step's facts go on a line of their own, under this column


def rows(result: StepResult) -> list[tuple[str, ...]]:
    """The step's line, and the line of its facts if it has any."""
    row = tuple(cell(result) for _, cell in COLUMNS)
    facts = "; ".join(f"{k}: {v}" for k, v in result.facts.items())
    if not facts:
        return [row]
    return [row, tuple(facts if header == FACTS_UNDER else "" for header, _ in COLUMNS)]


def summary(drill: Record) -> str:
    """The table printed at the end of the drill, then the totals and what did not go well."""
    table = [tuple(header for header, _ in COLUMNS)]
    table += [row for r in drill.results for row in rows(r)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    writes = drill.writer.snapshot()
    lines.append(f"writes: {len(writes)} attempted, {len([w for w in writes if w.acked])} "
                 f"acknowledged, {len(drill.known_lost)} acknowledged writes lost in all")
    lines.append("promoted: " + ", ".join(f"{name} at {t:.1f}s" for t, name in drill.promotions))
    lines += [f"{r.name}: {r.outcome}" for r in drill.results if r.outcome != "ok"]
    return "\n".join(lines)
