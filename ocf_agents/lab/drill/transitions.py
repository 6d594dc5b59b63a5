"""How many transitions Pacemaker needed for a step, from the nodes' pacemaker.log.

A switchover Pacemaker can run as one transition (docs/guide.md, "A switchover in one
transition"); each transient attribute or configuration change while it runs aborts it, and
the rest of the move waits for a new scheduler run (and on Pacemaker 2.1.5 and 3.0.1 for a
whole second when CIB updates are pending). The DC logs both: ``Calculated transition N``
(pacemaker-schedulerd) and ``Transition N aborted by ...`` (pacemaker-controld). Every node's
log is read, because the DC may be any node.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Iterable

CALCULATED = re.compile(r"Calculated transition (\d+)")
ABORTED = re.compile(r"Transition (\d+) aborted(.*)")


def line_time(line: str, year: int) -> float | None:
    """The time.time() of a pacemaker.log line: Pacemaker stamps its lines in local time to
    the millisecond, without the year (``Dec 07 19:41:37.123 node1 ...``); None for a line
    without a stamp (a continuation)."""
    try:
        return datetime.datetime.strptime(f"{year} {line[:19]}", "%Y %b %d %H:%M:%S.%f").timestamp()
    except ValueError:
        return None


@dataclass
class Transitions:
    """What the DC did between a step's action and its end."""

    calculated: list[int] = field(default_factory=list)  # transition numbers, in order
    aborts: list[str] = field(default_factory=list)  # "N: by ..." for each abort

    def __str__(self) -> str:
        return f"{len(self.calculated)} transition(s), {len(self.aborts)} abort(s)"


def count(logs: Iterable[str], since: float, until: float, year: int) -> Transitions:
    """The transitions calculated in ``logs`` (each a node's pacemaker.log) from ``since`` to
    ``until`` (time.time()), and the aborts of those. An abort of a transition calculated
    before (the last one, complete) is how the fault itself starts a new one: the move's
    constraint, a node lost."""
    calculated: set[int] = set()
    aborts: list[tuple[int, str]] = []
    for log in logs:
        for line in log.splitlines():
            stamp = line_time(line, year)
            if stamp is None or not since <= stamp <= until:
                continue
            if m := CALCULATED.search(line):
                calculated.add(int(m.group(1)))
            elif m := ABORTED.search(line):
                aborts.append((int(m.group(1)), m.group(2)))
    return Transitions(sorted(calculated), [f"{n}:{why}" for n, why in aborts if n in calculated])


def first_time(logs: Iterable[str], text: str, since: float, year: int) -> float | None:
    """The stamp of the first line containing ``text`` at or after ``since`` in any of
    ``logs``, None when there is none."""
    stamps = [stamp for log in logs for line in log.splitlines()
              if text in line and (stamp := line_time(line, year)) is not None and stamp >= since]
    return min(stamps, default=None)
