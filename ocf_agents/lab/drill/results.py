"""What a step records, how it ends, and the summary table printed after the drill.

A step's outcome is an exception (:class:`StepFailed`, :class:`StepSkipped`) rather than a
return value, so that a scenario reads as the sequence of things it expects, each failing the
step where it does not hold.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..idl_writer import LongLivedWriter
from ..writer import Writes


class StepFailed(Exception):
    """The step's outcome is not what a healthy HA setup gives (the reason says what)."""


class StepSkipped(Exception):
    """The step does not apply to this lab (the reason says why)."""


ONE_SHOT, LONG_LIVED = "one-shot", "long-lived"  # the drill's two writing clients
CLIENTS = (ONE_SHOT, LONG_LIVED)


@dataclass
class ClientTally:
    """What one writing client saw in a step."""

    acked: int = 0  # acknowledged writes that ended during the step
    lost: int | None = 0  # acknowledged ones missing from the database after it (None: not counted)
    # The client's outage: the longest time without an acknowledgement from the step's fault
    # to its end (None: the step has no fault of the database).
    gap: float | None = None


@dataclass
class StepResult:
    name: str
    ok: bool = False
    outcome: str = ""
    promoted_before: str = "-"
    promoted_after: str = "-"
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    clients: dict[str, ClientTally] = field(  # by name, both always there
        default_factory=lambda: {name: ClientTally() for name in CLIENTS})
    # Where ovn-northd ran (control.py): samples with exactly one, on the promoted node / all
    # samples, and the most at once; and the seconds from the fault until a port created
    # after it was bound on a chassis and up (None: not measured, or it never came up).
    northd: str = "-"
    port_up: float | None = None
    # time.time() of the step's key moments (not printed), to match against the cluster's logs
    moments: dict[str, float] = field(default_factory=dict)

    @property
    def acked(self) -> int:
        """The one-shot writer's acknowledged writes (what the drill always counted)."""
        return self.clients[ONE_SHOT].acked

    @property
    def lost(self) -> int | None:
        return self.clients[ONE_SHOT].lost


class Record(Protocol):
    """What the summary reads of a drill."""

    results: list[StepResult]
    clients: dict[str, Writes]
    known_lost: dict[str, set[int]]
    promotions: list[tuple[float, str]]
    long_lived: LongLivedWriter


def per_client(r: StepResult, cell: Callable[[ClientTally], object]) -> str:
    """One cell for both clients, one-shot first: ``a / b``."""
    return " / ".join(str(cell(r.clients[name])) for name in CLIENTS)


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# The summary's columns, in order: header and cell of a step. A new column is one more line.
COLUMNS: tuple[tuple[str, Callable[[StepResult], str]], ...] = (
    ("step", lambda r: r.name),
    ("result", lambda r: r.outcome.split(":")[0]),
    ("promoted", lambda r: f"{r.promoted_before} -> {r.promoted_after}"),
    ("timings (s)", lambda r: ", ".join(f"{k} {v:.2f}" for k, v in r.timings.items()
                                        if k != "step")),
    ("gap (s)", lambda r: per_client(r, lambda c: seconds(c.gap))),
    ("acked", lambda r: per_client(r, lambda c: c.acked)),
    ("lost", lambda r: per_client(r, lambda c: "-" if c.lost is None else c.lost)),
    ("northd", lambda r: r.northd),
    ("port up (s)", lambda r: seconds(r.port_up)),
)
LEGEND = (f"gap, acked, lost: the {ONE_SHOT} writer (an ovn-nbctl per write) / the "
          f"{LONG_LIVED} client (one IDL session held through the drill); gap: the longest "
          "time without an acknowledged write from the step's fault to its end; northd: "
          "samples with ovn-northd on exactly one node, the promoted one / all samples, and "
          "the most running at once; port up: from the fault until a port created after it "
          "is bound on a chassis and up=true")
FACTS_UNDER = "timings (s)"  # a step's facts go on a line of their own, under this column


def rows(result: StepResult) -> list[tuple[str, ...]]:
    """The step's line, and the line of its facts if it has any."""
    row = tuple(cell(result) for _, cell in COLUMNS)
    facts = "; ".join(f"{k}: {v}" for k, v in result.facts.items())
    if not facts:
        return [row]
    return [row, tuple(facts if header == FACTS_UNDER else "" for header, _ in COLUMNS)]


def totals(name: str, client: Writes, lost: set[int]) -> str:
    """A client's writes over the whole drill, with their outcomes when not all succeeded."""
    writes = client.snapshot()
    outcomes = collections.Counter(w.outcome for w in writes if w.outcome)
    told = f" ({', '.join(f'{o} {n}' for o, n in outcomes.items())})" if len(outcomes) > 1 \
        else ""
    return (f"{name} writes: {len(writes)} attempted{told}, "
            f"{len([w for w in writes if w.acked])} acknowledged, {len(lost)} acknowledged "
            f"writes lost in all")


def summary(drill: Record) -> str:
    """The table printed at the end of the drill, then the totals and what did not go well."""
    table = [tuple(header for header, _ in COLUMNS)]
    table += [row for r in drill.results for row in rows(r)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(LEGEND)
    lines += [totals(name, drill.clients[name], drill.known_lost[name]) for name in CLIENTS]
    sessions = len(drill.long_lived.connections)
    lines.append(f"{LONG_LIVED} client ({drill.long_lived.kind} on {drill.long_lived.remote}): "
                 f"one process (pid {drill.long_lived.pid}), {sessions} "
                 f"sessions (it reconnected {max(sessions - 1, 0)} times)")
    lines.append("promoted: " + ", ".join(f"{name} at {t:.1f}s" for t, name in drill.promotions))
    lines += [f"{r.name}: {r.outcome}" for r in drill.results if r.outcome != "ok"]
    return "\n".join(lines)
