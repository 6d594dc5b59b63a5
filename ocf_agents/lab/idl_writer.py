"""The long-lived twin of the drill's writer: one OVSDB IDL session to the northbound VIP,
held through every step, as ovn-northd and the clouds' OVN drivers hold theirs.

The client itself is idl_client.py, a child process in the lab's client namespace (nsenter,
as the one-shot writer runs ovn-nbctl) on Debian's python3, which has python3-openvswitch.
This side starts it once, reads its JSON lines into :class:`~.writer.Write` records (the same
record as the one-shot writer's, so that the drill measures both alike) and the moments its
sessions became ready, and stops it by closing its stdin. A client that reconnects shows as
more sessions in ONE process: ``pid`` stays the same.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import IO, Callable

from .writer import Write, Writes, in_client_netns, nb_db

# Debian's interpreter, the one python3-openvswitch is installed for (the drill itself may
# run in a virtualenv or another Python).
DEBIAN_PYTHON = "/usr/bin/python3"
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
STOP_TIMEOUT_S = 5.0
SUCCESS = "success"  # ovs.db.idl.Transaction.SUCCESS
STDERR_LINES = 20  # the client's last lines of stderr, kept to explain its death


def why_unavailable() -> str | None:
    """Why the client cannot run on this machine (None: it can)."""
    if subprocess.run([DEBIAN_PYTHON, "-c", "import ovs.db.idl"], capture_output=True).returncode:
        return f"python3-openvswitch is not installed for {DEBIAN_PYTHON} (make deps)"
    return None


class LongLivedWriter(Writes):
    """The IDL client as the drill sees it: its writes, its sessions, its process."""

    def __init__(self, prefix: str, remote: str | None = None,
                 wrap: Callable[[list[str]], list[str]] = in_client_netns,
                 probe_ms: int | None = None, reconnect: bool = True) -> None:
        super().__init__(prefix)
        self.remote = remote or nb_db()
        self.probe_ms = probe_ms  # None: the IDL's default inactivity probe (5 s)
        self.reconnect = reconnect  # False: the session is given up when it drops
        self.wrap = wrap
        self.connections: list[float] = []  # time.monotonic() of each session made ready
        self.stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._proc: subprocess.Popen[str] | None = None
        self._readers: list[threading.Thread] = []

    def argv(self) -> list[str]:
        probe = str(self.probe_ms) if self.probe_ms is not None else "-"
        return self.wrap([DEBIAN_PYTHON, "-m", "ocf_agents.lab.idl_client", self.remote,
                          self.prefix, probe, "" if self.reconnect else "once"])

    def start(self) -> None:
        self._proc = subprocess.Popen(
            self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONPATH": PACKAGE_ROOT})
        self._readers = [
            threading.Thread(target=self._read_events, args=(self._proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_events(self, stream: IO[str]) -> None:
        for line in stream:
            self.take(json.loads(line))

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self.stderr.append(line.rstrip())

    def take(self, event: dict[str, object]) -> None:
        """One line of the client: a session ready, or a transaction's outcome."""
        if "connected" in event:
            with self._lock:
                self.connections.append(float(event["connected"]))
            return
        outcome = str(event["outcome"])
        self.record(Write(int(event["seq"]), float(event["started"]), float(event["finished"]),
                          outcome == SUCCESS, outcome))

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def death(self) -> str | None:
        """Why the client is no longer running (None while it runs or before its start)."""
        if self._proc is None or self._proc.poll() is None:
            return None
        return (f"the long-lived client exited with {self._proc.returncode}: "
                + " | ".join(self.stderr))

    def stop(self) -> None:
        """Close the client's stdin (it exits at once), kill it if it does not."""
        if self._proc is None:
            return
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for reader in self._readers:
            reader.join(timeout=STOP_TIMEOUT_S)
