"""A client that writes through the VIP during a switchover, and what its writes show.

``python3 -m bench.writer ADDRESS PORT PREFIX`` runs in the pair's client namespace (neither
node): every INTERVAL seconds it starts a write, one logical switch ``PREFIX<seq>`` in its own
transaction over a new TCP connection, and prints one JSON line per write when it ends
(``seq``, ``started``, ``finished``: ``time.monotonic()``, the same clock in every namespace;
``acked``: the server committed it). Writes start on a clock, not after the previous one: while
the VIP has no server behind it a connection waits for TCP's retransmissions (1 s, then 2 s
more), and attempts INTERVAL apart see the new server within INTERVAL. It stops when its
standard input closes. Standard library and ovsdb_rpc only: it runs with the system python3.

A write counts as acknowledged when the server answered the transaction without error; one
that the new promoted node does not hold afterwards is a lost write.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from . import ovsdb_rpc
from .pair import REPO, SYSTEM_PYTHON, BenchError

INTERVAL = 0.025  # seconds between write starts: the outage's resolution, 40 writes a second
WRITE_TIMEOUT = 3.0  # seconds one write may take (connect, then the answer)
MAX_IN_FLIGHT = 200  # writes waiting at once while nothing answers (3 s / 25 ms = 120)


def switch_name(prefix: str, seq: int) -> str:
    return f"{prefix}{seq}"


def write_once(address: tuple[str, int], prefix: str, seq: int, out: TextIO, lock: threading.Lock) -> None:
    """One write, reported on ``out`` when it ends, acknowledged or not."""
    started = time.monotonic()
    try:
        with ovsdb_rpc.Client(address, timeout=WRITE_TIMEOUT) as client:
            ovsdb_rpc.add_switch(client, switch_name(prefix, seq))
        acked = True
    except (OSError, ValueError, ovsdb_rpc.RpcError):
        acked = False
    line = json.dumps({"seq": seq, "started": started, "finished": time.monotonic(), "acked": acked})
    with lock:
        out.write(line + "\n")
        out.flush()


def write_until_stdin_closes(address: tuple[str, int], prefix: str) -> None:
    lock = threading.Lock()
    running: list[threading.Thread] = []
    seq = 0
    while not select.select([sys.stdin], [], [], INTERVAL)[0]:
        running = [t for t in running if t.is_alive()]
        if len(running) < MAX_IN_FLIGHT:
            seq += 1
            thread = threading.Thread(target=write_once, args=(address, prefix, seq, sys.stdout, lock), daemon=True)
            thread.start()
            running.append(thread)
    for thread in running:
        thread.join()


@dataclass(frozen=True)
class Write:
    seq: int
    started: float
    finished: float
    acked: bool


class ClientWriter:
    """The writing client, started in ``namespace``; its writes as they end."""

    def __init__(self, namespace: str, address: tuple[str, int], prefix: str) -> None:
        self.prefix = prefix
        self._writes: list[Write] = []
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{namespace}", "--", SYSTEM_PYTHON, "-m", "bench.writer",
             address[0], str(address[1]), prefix], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, name="writer-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._lock:
                self._writes.append(Write(**json.loads(line)))

    def writes(self) -> list[Write]:
        with self._lock:
            return list(self._writes)

    def wait_ack(self, after: float, limit: float = 30.0) -> Write:
        """The first acknowledged write that started at ``after`` or later, once it ends."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            acked = [w for w in self.writes() if w.acked and w.started >= after]
            if acked:
                return min(acked, key=lambda w: w.finished)
            time.sleep(0.01)
        raise BenchError(f"no write through the VIP was acknowledged within {limit:.0f}s")

    def stop(self) -> list[Write]:
        """Stop writing; every write, the unfinished ones ended (at most WRITE_TIMEOUT later)."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=WRITE_TIMEOUT + 30)
        self._reader.join(timeout=10)
        return self.writes()

    def __enter__(self) -> "ClientWriter":
        return self

    def __exit__(self, *exc) -> None:
        if self._proc.poll() is None:
            self.stop()


def outage(writes: list[Write]) -> float:
    """The longest time between two consecutive acknowledged writes' ends: with writes from
    before a switchover until the pair has replicated again, the longest the client waited,
    whether for the hand-over or for a server busy afterwards."""
    ends = sorted(w.finished for w in writes if w.acked)
    if len(ends) < 2:
        raise BenchError("fewer than two acknowledged writes: no outage to measure")
    return max(b - a for a, b in zip(ends, ends[1:]))


def handover(writes: list[Write], vip_arrived: float) -> float:
    """From the last write acknowledged before the VIP reached the new node (by the old one:
    nobody acknowledges while the VIP is nowhere) to the first acknowledged after (by the new)."""
    ends = [w.finished for w in writes if w.acked]
    before, after = [t for t in ends if t < vip_arrived], [t for t in ends if t >= vip_arrived]
    if not before or not after:
        raise BenchError("no acknowledged write on one side of the VIP's move")
    return min(after) - max(before)


def lost(writes: list[Write], prefix: str, present: set[str]) -> list[int]:
    """The acknowledged writes whose switch is not in ``present`` (the new promoted node's)."""
    return [w.seq for w in writes if w.acked and switch_name(prefix, w.seq) not in present]


def main(argv: list[str]) -> int:
    address, port, prefix = argv
    write_until_stdin_closes((address, int(port)), prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
