"""A client that writes to the OVN northbound database through the VIP, without pause.

It does what a cloud's network provider does when ports are created: one transaction per
write, ``ls-add`` + ``lsp-add`` + ``lsp-set-addresses``, with ``ovn-nbctl`` from the lab's
client namespace. A write counts as *acknowledged* when ovn-nbctl exits 0 (the server
committed it); the drill later asks the database for every acknowledged write, and a missing
one is a lost write. ``--may-exist`` makes a write that ovn-nbctl retries after a reconnect
harmless.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass

from .layout import CLIENT, OVNDB_VIP

NB_PORT = 6641
WRITE_TIMEOUT_S = 3  # ovn-nbctl's own limit for one write (connect + commit)
PAUSE_AFTER_FAILURE_S = 0.05
KILL_AFTER_S = WRITE_TIMEOUT_S + 5  # a write still running then is killed, not acknowledged
MAX_IN_FLIGHT = 40
POLL_S = 0.01  # how often the writer looks at its writes (an acknowledgement's resolution)


def nb_db(address: str = OVNDB_VIP) -> str:
    return f"tcp:{address}:{NB_PORT}"


def in_client_netns(argv: list[str]) -> list[str]:
    return ["nsenter", f"--net=/run/netns/{CLIENT.netns}", "--", *argv]


@dataclass(frozen=True)
class Write:
    seq: int
    started: float  # time.monotonic()
    finished: float
    acked: bool
    outcome: str = ""  # the long-lived client's transaction status ("success", "try again"...)


class Writes:
    """A writing client's record: its writes in the order they ended, each creating the
    logical switch ``prefix-seq``, and what the drill asks of them. Both clients (this
    module's one-shot writer, idl_writer's long-lived one) keep theirs the same way, so that
    their outages and losses are measured alike."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.writes: list[Write] = []
        self._lock = threading.Lock()

    def switch(self, seq: int) -> str:
        return f"{self.prefix}-{seq}"

    def record(self, write: Write) -> None:
        with self._lock:
            self.writes.append(write)

    def snapshot(self) -> list[Write]:
        with self._lock:
            return list(self.writes)

    def acked_between(self, start: float, end: float) -> list[Write]:
        return [w for w in self.snapshot() if w.acked and start <= w.finished <= end]

    def first_ack_after(self, moment: float) -> Write | None:
        """The first write that *started* after ``moment`` and was acknowledged."""
        return next((w for w in self.snapshot() if w.acked and w.started >= moment), None)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time without an acknowledgement inside [start, end]."""
        moments = [start] + [w.finished for w in self.acked_between(start, end)] + [end]
        return max(b - a for a, b in zip(moments, moments[1:]))

    def missing(self, present: set[str], writes: list[Write]) -> list[int]:
        """Acknowledged writes whose logical switch is not in ``present``."""
        return [w.seq for w in writes if w.acked and self.switch(w.seq) not in present]


class Writer(Writes):
    """The writing client, in a thread of ours; each write is one short ovn-nbctl run.

    By default one write at a time, as one client does. With ``spacing`` (seconds) a new
    write also starts whenever the latest one still running began ``spacing`` ago (at most
    MAX_IN_FLIGHT at once): while the VIP has no server behind it a write waits for TCP's
    retransmissions (1 s, then 2 s more), so one client alone would see the new server up to
    seconds late; attempts ``spacing`` apart see it within ``spacing``. The fail-over bench
    uses that to time the first acknowledged write.
    """

    def __init__(self, prefix: str, spacing: float | None = None, remote: str | None = None) -> None:
        super().__init__(prefix)
        self.spacing = spacing
        # What ``--db`` names: the VIP, or a clustered database's members ("tcp:A,tcp:B,...").
        self.remote = remote or nb_db()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def write_argv(self, seq: int) -> list[str]:
        ls, lsp = self.switch(seq), f"{self.switch(seq)}-p"
        mac = f"0a:00:00:00:{seq // 256 % 256:02x}:{seq % 256:02x}"
        return in_client_netns([
            "ovn-nbctl", f"--db={self.remote}", f"--timeout={WRITE_TIMEOUT_S}",
            "--may-exist", "ls-add", ls, "--", "--may-exist", "lsp-add", ls, lsp,
            "--", "lsp-set-addresses", lsp, f"{mac} 10.200.{seq // 250 % 250}.{seq % 250 + 1}",
        ])

    def may_start(self, now: float, running: list[float], last_failed: float) -> bool:
        """Whether a new write starts now, given the start times of those still running
        and when the last write failed."""
        if now - last_failed < PAUSE_AFTER_FAILURE_S:
            return False
        if not running:
            return True
        return (self.spacing is not None and len(running) < MAX_IN_FLIGHT
                and now - max(running) >= self.spacing)

    def _loop(self) -> None:
        seq = 0
        running: dict[int, tuple[float, subprocess.Popen]] = {}
        last_failed = -PAUSE_AFTER_FAILURE_S
        try:
            while not self._stop.is_set():
                for done, (started, proc) in list(running.items()):
                    if proc.poll() is None and time.monotonic() - started < KILL_AFTER_S:
                        continue
                    acked = proc.poll() == 0
                    if proc.poll() is None:  # ovn-nbctl ignored its own --timeout
                        proc.kill()
                        proc.wait()
                    del running[done]
                    self.record(Write(done, started, time.monotonic(), acked))
                    if not acked:
                        last_failed = time.monotonic()
                now = time.monotonic()
                if self.may_start(now, [s for s, _ in running.values()], last_failed):
                    seq += 1
                    running[seq] = (now, subprocess.Popen(
                        self.write_argv(seq), stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                self._stop.wait(POLL_S)
        finally:
            for _, proc in running.values():
                proc.kill()
                proc.wait()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="nb-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=KILL_AFTER_S + 10)


def switches_in_nb(remote: str | None = None) -> set[str] | None:
    """Every logical switch name the northbound database holds, read through ``remote`` (an
    ovn-nbctl ``--db``; the VIP's by default); None if it does not answer."""
    proc = subprocess.run(
        in_client_netns(["ovn-nbctl", f"--db={remote or nb_db()}", "--timeout=10", "--bare",
                         "--columns=name", "list", "Logical_Switch"]),
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=20)
    if proc.returncode != 0:
        return None
    return set(proc.stdout.split())
