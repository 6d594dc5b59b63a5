"""What a step records, how it ends, and the summary table printed after the drill.

A step's outcome is an exception (:class:`StepFailed`, :class:`StepSkipped`) rather than a
return value, so that a scenario reads as the sequence of things it expects, each failing the
step where it does not hold.
"""

from __future__ import annotations

import collections
import os
import textwrap
import time
from dataclasses import dataclass, field
from typing import Protocol

from ..idl_writer import LongLivedWriter
from ..writer import Writes
from .timeline import Timeline


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
    timeline: Timeline | None = None  # what its picture shows (runner.py, picture.py)

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


WIDTH = 120  # no line of the summary is longer: a terminal's width (issue 28)
FACT_WIDTH = 60  # a fact longer than this is shortened in the summary, whole in the details
INDENT = "  "
LABEL = 10  # the width of a step's line labels, so that their values line up


def duration(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def fit(line: str, indent: str = INDENT + " " * LABEL) -> list[str]:
    """``line`` wrapped to WIDTH columns, what follows the first line under ``indent``."""
    return textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]


def labelled(label: str, text: str) -> list[str]:
    """One of a step's lines: its label, then the text, wrapped under the text."""
    return fit(f"{INDENT}{label.ljust(LABEL)}{text}")


def happened(r: StepResult) -> str:
    """The step's timings (the step's own length and the fence, said elsewhere, left out) and
    its facts, each fact shortened to FACT_WIDTH (the details file has them whole)."""
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in r.timings.items() if k not in ("step", "fenced"))
    facts = [textwrap.shorten(f"{k}: {v}", FACT_WIDTH, placeholder=" ...")
             for k, v in r.facts.items() if k != "fence"]
    return "; ".join(part for part in (timings, *facts) if part) or "-"


def client_cells(tally: ClientTally) -> str:
    lost = "not counted" if tally.lost is None else str(tally.lost)
    return f"gap {duration(tally.gap)}, {tally.acked} acked, {lost} lost"


def clients(r: StepResult) -> str:
    """Both clients' outage and writes, one-shot first."""
    return " | ".join(f"{name}: {client_cells(r.clients[name])}" for name in CLIENTS)


def cluster(r: StepResult) -> str:
    """The fence (when the step's fault made the cluster fence a node), ovn-northd and the
    new port."""
    fence = r.timings.get("fenced")
    fenced = duration(fence)
    if fence is not None and "fence" in r.facts:
        fenced += f" ({str(r.facts['fence']).split(' (')[0]})"  # "off node1 by node2"
    return f"fenced {fenced}; northd {r.northd}; port up {duration(r.port_up)}"


def headline(r: StepResult) -> str:
    """The step, who was promoted before and after it, how long it took, how it ended."""
    step = r.timings.get("step")
    took = "" if step is None else f", {step:.1f} s"
    return f"{r.name} ({r.promoted_before} -> {r.promoted_after}{took}): {r.outcome}"


def block(r: StepResult) -> list[str]:
    """A step in the summary: how it ended, what happened, the two clients, the cluster."""
    return [*fit(headline(r)), *labelled("happened", happened(r)), *labelled("clients", clients(r)),
            *labelled("cluster", cluster(r))]


LEGEND = ("a step's first line: the promoted node (the port's holder in port-failover) before -> after, the "
          f"step's length, its outcome; clients: the {ONE_SHOT} writer (an ovn-nbctl per write) and the {LONG_LIVED} client "
          "(one IDL session held through the drill); gap: the longest time without an "
          "acknowledged write from the step's fault to its end; northd: samples with ovn-northd "
          "on exactly one node, the promoted one / all samples, and the most running at once; "
          "port up: from the fault until a port created after it is bound on a chassis and "
          "up=true; fenced: from the fault to the fence device's answer")


def totals(name: str, client: Writes, lost: set[int]) -> str:
    """A client's writes over the whole drill, with their outcomes when not all succeeded."""
    writes = client.snapshot()
    outcomes = collections.Counter(w.outcome for w in writes if w.outcome)
    told = f" ({', '.join(f'{o} {n}' for o, n in outcomes.items())})" if len(outcomes) > 1 \
        else ""
    return (f"{name} writes: {len(writes)} attempted{told}, "
            f"{len([w for w in writes if w.acked])} acknowledged, {len(lost)} acknowledged "
            f"writes lost in all")


def summary(drill: Record, details: str | None = None, picture: str | None = None) -> str:
    """What is printed at the end of the drill, no line over WIDTH: a block per step, the
    totals, what did not go well, and where the ``details`` file (:func:`write_details`) and
    the ``picture`` (picture.py) are."""
    lines = [line for r in drill.results for line in block(r)]
    lines += fit(LEGEND, "")
    lines += [line for text in closing(drill) for line in fit(text, INDENT)]
    if details:
        lines += fit(f"every fact and outcome in full: {details}", INDENT)
    if picture:
        lines += fit(f"each step's timeline as a picture: {picture}", INDENT)
    return "\n".join(lines)


def closing(drill: Record) -> list[str]:
    """The totals of both clients, the long-lived client's sessions, who was promoted when,
    and the steps that did not end well, one line each."""
    sessions = len(drill.long_lived.connections)
    return [*(totals(name, drill.clients[name], drill.known_lost[name]) for name in CLIENTS),
            f"{LONG_LIVED} client ({drill.long_lived.kind}): one process (pid "
            f"{drill.long_lived.pid}), {sessions} sessions (it reconnected "
            f"{max(sessions - 1, 0)} times)",
            "promoted: " + ", ".join(f"{name} at {t:.1f}s" for t, name in drill.promotions),
            *(f"{r.name}: {r.outcome}" for r in drill.results if r.outcome != "ok")]


def details(drill: Record) -> str:
    """Every step with its outcome, timings and facts unabridged, and the closing lines: what
    the summary shortens, for the operator who looks into one step."""
    lines = []
    for r in drill.results:
        lines += [f"== {r.name}", f"outcome: {r.outcome}",
                  f"promoted: {r.promoted_before} -> {r.promoted_after}",
                  *(f"timing {k}: {v:.3f} s" for k, v in r.timings.items()),
                  *(f"{k}: {v}" for k, v in r.facts.items()),
                  *(f"{name}: {client_cells(r.clients[name])}" for name in CLIENTS),
                  f"northd: {r.northd}", f"port up: {duration(r.port_up)}", ""]
    return "\n".join([*lines, "== the whole drill", *closing(drill), "", LEGEND, ""])


def report_name() -> str:
    """The name of a drill's report files, without the suffix: the time it ended."""
    return time.strftime("drill-%Y%m%d-%H%M%S")


def write_details(drill: Record, directory: str, name: str | None = None) -> str:
    """:func:`details` written to a new file in ``directory`` (made if need be), ``name``.txt
    (:func:`report_name` by default); its path. Outside the lab's directory, which ``lab
    down`` removes with the lab."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name or report_name()}.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(details(drill))
    return path
