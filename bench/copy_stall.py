"""``python -m bench.copy_stall``: how long a new replication session stops an active
ovsdb-server's clients, as the database grows.

Why: after a switchover the old node (and any other backup) starts a new replication session
from the new promoted node, and ovsdb-server's active-backup replication has no incremental
catch-up: the source builds the whole database as the session's first reply, in one iteration
of its main loop, and answers no client meanwhile. This is the part of a switchover's write
outage that grows with the database, for any agent (docs/performance-history.md, "Where the
outage at 100 000 ports goes"); the switchover bench sees it mixed with everything else, this
measures it alone.

What runs: one active ovsdb-server with the bench's northbound database of N ports, a client
writing one logical switch every 25 ms on a new connection (bench/writer.py's pattern, over the
server's unix socket), and, one second in, a new empty backup replicating from it. Measured:
the client's longest time between two acknowledged writes until the backup holds a marker
written after it started, and the source's own account of its longest main-loop iteration
(its log's ``Unreasonably long N ms poll interval (U ms user, S ms system)``). Needs
ovsdb-server and the OVN northbound schema only; no root, no namespaces.
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import ovsdb_rpc
from .options import counts
from .writer import INTERVAL, WRITE_TIMEOUT, Write, outage

LEAD_IN = 1.0  # seconds of writes before the backup starts
SETTLE_LIMIT = 300.0  # seconds the backup may take to hold the marker
POLL_LINE = re.compile(r"Unreasonably long (\d+)ms poll interval \((\d+)ms user, (\d+)ms system\)")


@dataclass(frozen=True)
class Stall:
    ports: int
    outage: float  # seconds: the client's longest time between acknowledged writes
    poll_ms: int  # the source's longest main-loop iteration it logged (0: none over 1 s)
    cpu_ms: int  # user+system CPU of that iteration
    caught_up: float  # seconds from the backup's start until it held the marker


class Server:
    """One ovsdb-server of its own directory: ``name``.db, .sock, .ctl, .log."""

    def __init__(self, directory: Path, name: str, *extra: str) -> None:
        self.db, self.sock, self.log = (directory / f"{name}.{ext}" for ext in ("db", "sock", "log"))
        self.proc = subprocess.Popen(
            ["ovsdb-server", str(self.db), f"--remote=punix:{self.sock}", f"--unixctl={directory / name}.ctl",
             f"--log-file={self.log}", "-vconsole:off", "-vfile:info", *extra], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + SETTLE_LIMIT
        while not self._answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"ovsdb-server {name} did not start: see {self.log}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with ovsdb_rpc.Client(str(self.sock), timeout=SETTLE_LIMIT) as client:
                client.call("list_dbs", [])
            return True
        except OSError:
            return False

    def wait_marker(self, value: str) -> None:
        """Until this (backup) server's northbound holds the marker ``value``."""
        deadline = time.monotonic() + SETTLE_LIMIT
        while not self._holds(value):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the backup did not replicate the marker within {SETTLE_LIMIT:.0f}s")
            time.sleep(0.01)

    def _holds(self, value: str) -> bool:
        try:
            with ovsdb_rpc.Client(str(self.sock), timeout=SETTLE_LIMIT) as client:
                return ovsdb_rpc.marker(client, "nb") == value
        except (OSError, ovsdb_rpc.RpcError):
            return False

    def longest_poll(self) -> tuple[int, int]:
        """The longest main-loop iteration the server logged, and its CPU (ms)."""
        seen = [tuple(map(int, m.groups())) for m in POLL_LINE.finditer(self.log.read_text())]
        wall, user, system = max(seen, default=(0, 0, 0))
        return wall, user + system

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Writer:
    """bench/writer.py's client in a thread: a write every INTERVAL on a new connection."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.writes: list[Write] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        seq, running = 0, []
        while not self._stop.wait(INTERVAL):
            seq += 1
            running.append(threading.Thread(target=self._write, args=(seq,), daemon=True))
            running[-1].start()
        for thread in running:
            thread.join()

    def _write(self, seq: int) -> None:
        started = time.monotonic()
        try:
            with ovsdb_rpc.Client(self.address, timeout=SETTLE_LIMIT) as client:
                ovsdb_rpc.add_switch(client, f"stall-{seq}")
            acked = True
        except (OSError, ValueError, ovsdb_rpc.RpcError):
            acked = False
        self.writes.append(Write(seq, started, time.monotonic(), acked))

    def stop(self) -> list[Write]:
        self._stop.set()
        self._thread.join(timeout=SETTLE_LIMIT + WRITE_TIMEOUT)
        return self.writes


def measure(ports: int, seed: Path, directory: Path) -> Stall:
    """One active server of ``seed``, its writing client, and a new backup of it."""
    (directory / "active.db").write_bytes(seed.read_bytes())
    subprocess.run(["ovsdb-tool", "create", str(directory / "backup.db"), ovsdb_rpc.NB_SCHEMA], check=True)
    active = Server(directory, "active")
    backup = None
    try:
        writer = Writer(str(active.sock))
        time.sleep(LEAD_IN)
        begin = time.monotonic()
        backup = Server(directory, "backup", f"--sync-from=unix:{active.sock}")
        value = secrets.token_hex(8)
        with ovsdb_rpc.Client(str(active.sock), timeout=SETTLE_LIMIT) as client:
            ovsdb_rpc.set_marker(client, "nb", value)
        backup.wait_marker(value)
        caught_up = time.monotonic() - begin
        time.sleep(LEAD_IN)
        writes = writer.stop()
        poll_ms, cpu_ms = active.longest_poll()
        return Stall(ports, outage(writes), poll_ms, cpu_ms, caught_up)
    finally:
        for server in filter(None, (backup, active)):
            server.stop()


def report(stalls: list[Stall]) -> str:
    rows = [f"| {s.ports} | {s.outage:.2f} | {s.poll_ms / 1000:.2f} | {s.cpu_ms / 1000:.2f} | {s.caught_up:.1f} |"
            for s in stalls]
    return "\n".join(["| ports | client's outage, s | source's longest loop iteration, s | its CPU, s | "
                      "backup caught up, s |", "|---:|---:|---:|---:|---:|", *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.copy_stall", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=counts, default="1000,10000,100000", help="logical switch ports, comma-separated")
    parser.add_argument("--runs", type=int, default=1, help="runs per size")
    args = parser.parse_args(argv)
    stalls = []
    with tempfile.TemporaryDirectory(prefix="ocfa-copy-stall-") as tmp:
        for ports in args.sizes:
            seed = Path(tmp) / f"seed-{ports}.db"
            ovsdb_rpc.make_seed(ports, seed)
            for run in range(args.runs):
                directory = Path(tmp) / f"{ports}-{run}"
                directory.mkdir()
                stalls.append(measure(ports, seed, directory))
                print(report(stalls[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(report(stalls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
