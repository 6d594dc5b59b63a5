"""The long-lived twin of the drill's writer: one OVSDB IDL session to the northbound VIP,
held through every step, as ovn-northd and the clouds' OVN drivers hold theirs.

The client itself is a child process in the lab's client namespace (nsenter, as the one-shot
writer runs ovn-nbctl) on Debian's python3, one of two programs (KINDS): idl_client.py, the
bare IDL as ovn-northd and ovn-controller use it (python3-openvswitch), or ovsdbapp_client.py,
OpenStack's way (python3-ovsdbapp over the IDL, with its own retries).
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable

from .writer import Write, Writes, in_client_netns, nb_db

# Debian's interpreter, the one python3-openvswitch is installed for (the drill itself may
# run in a virtualenv or another Python).
DEBIAN_PYTHON = "/usr/bin/python3"
IDL, OVSDBAPP = "idl", "ovsdbapp"
# Each kind: its program's module, and the module Debian's python3 must import to run it.
KINDS: dict[str, tuple[str, str]] = {
    IDL: ("ocf_agents.lab.idl_client", "ovs.db.idl"),
    OVSDBAPP: ("ocf_agents.lab.ovsdbapp_client", "ovsdbapp.schema.ovn_northbound.impl_idl"),
}
PACKAGES = {IDL: "python3-openvswitch", OVSDBAPP: "python3-ovsdbapp"}
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
STOP_TIMEOUT_S = 5.0
SUCCESS = "success"  # ovs.db.idl.Transaction.SUCCESS, and ovsdbapp_client's returned execute()
STDERR_LINES = 20  # the client's last lines of stderr, kept to explain its death


def why_unavailable(kind: str = IDL) -> str | None:
    """Why the ``kind`` of client cannot run on this machine (None: it can)."""
    module = KINDS[kind][1]
    if subprocess.run([DEBIAN_PYTHON, "-c", f"import {module}"], capture_output=True).returncode:
        return f"{PACKAGES[kind]} is not installed for {DEBIAN_PYTHON} (make deps)"
    return None


@dataclass(frozen=True)
class ClientSettings:
    """How the drill runs its long-lived client (``ocf-agents drill --long-lived`` and
    ``--client-*``): the settings a real client's operator chooses, so that the drill measures
    what each choice costs in a fail-over."""

    # KINDS. The bare IDL by default: Debian 12's ovsdbapp 2.1.0 never recovers from a
    # switchover with the agents' default server probe (5 s; docs/performance-history.md, issue 25).
    kind: str = IDL
    probe_ms: int | None = None  # the IDL's inactivity probe (None: its default, 5 s)
    remotes: int = 1  # the VIP listed this many times in the remote
    timeout_s: float | None = None  # ovsdbapp's Connection timeout (None: Neutron's 180 s)
    log_path: str | None = None  # ovsdbapp's debug log (None: none)
    library: str | None = None  # a directory searched before Debian's (another ovsdbapp)

    def __post_init__(self) -> None:
        if self.kind != OVSDBAPP and (self.timeout_s is not None or self.log_path is not None):
            raise ValueError("a timeout and a debug log are settings of the ovsdbapp client")

    def writer(self, prefix: str, remote: str) -> LongLivedWriter:
        """The client on ``remote`` (the VIP), listed ``remotes`` times."""
        return LongLivedWriter(prefix, remote=",".join([remote] * self.remotes),
                               probe_ms=self.probe_ms, kind=self.kind,
                               timeout_s=self.timeout_s, log_path=self.log_path,
                               library=self.library)


def _or_dash(value: float | None) -> str:
    """A client's optional argument: ``-`` for its default."""
    return "-" if value is None else str(value)


class LongLivedWriter(Writes):
    """The IDL client as the drill sees it: its writes, its sessions, its process."""

    def __init__(self, prefix: str, remote: str | None = None,
                 wrap: Callable[[list[str]], list[str]] = in_client_netns,
                 probe_ms: int | None = None, reconnect: bool = True, kind: str = IDL,
                 timeout_s: float | None = None, log_path: str | None = None,
                 library: str | None = None) -> None:
        super().__init__(prefix)
        if kind not in KINDS:
            raise ValueError(f"unknown long-lived client {kind!r} (one of {', '.join(KINDS)})")
        if kind == OVSDBAPP and not reconnect:
            raise ValueError("ovsdbapp always reconnects: a client that does not is the IDL's")
        self.kind = kind
        self.timeout_s = timeout_s  # ovsdbapp's Connection timeout (None: Neutron's 180 s)
        self.log_path = log_path  # ovsdbapp's debug log (None: none)
        # Searched before Debian's packages: another release of the library, unpacked there
        # (``pip install --no-deps --target DIR ovsdbapp==X``), to measure what it changes.
        self.library = library
        self.remote = remote or nb_db()
        self.probe_ms = probe_ms  # None: the IDL's default inactivity probe (5 s)
        self.reconnect = reconnect  # False: the session is given up when it drops
        self.wrap = wrap
        self.connections: list[float] = []  # time.monotonic() of each session made ready
        self.stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._proc: subprocess.Popen[str] | None = None
        self._readers: list[threading.Thread] = []

    def argv(self) -> list[str]:
        program = [DEBIAN_PYTHON, "-m", KINDS[self.kind][0], self.remote, self.prefix,
                   _or_dash(self.probe_ms)]
        if self.kind == OVSDBAPP:
            return self.wrap(program + [_or_dash(self.timeout_s), self.log_path or "-"])
        return self.wrap(program + ["" if self.reconnect else "once"])

    def start(self) -> None:
        self._proc = subprocess.Popen(
            self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONPATH": ":".join(
                path for path in (self.library, PACKAGE_ROOT) if path)})
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
