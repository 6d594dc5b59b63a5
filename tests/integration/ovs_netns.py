"""A private Open vSwitch inside a network namespace, for the OVSPort tests.

``ovsdb-server`` and ``ovs-vswitchd`` (userspace datapath: bridges with
``datapath_type=netdev``, whose internal ports become tap devices) run inside a namespace
``ocfa-port-<random>`` with their database, sockets and logs in a temporary directory, so the
host's interfaces and any host Open vSwitch are never touched. The agent is pointed at this
OVS with its ``ovsdb`` parameter and runs inside the namespace (``ip netns exec``), where its
``ip`` commands and packet sockets see the tap devices.

Everything started here is stopped by PID and every namespace deleted, even when a test fails.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
WAIT_LIMIT = 10.0  # seconds: the longest any setup step may take before the fixture gives up
STOP_LIMIT = 5.0


def run(argv: Sequence[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command with a bounded time, output captured as text."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=WAIT_LIMIT, **kwargs)


def wait_until(what: str, check, limit: float = WAIT_LIMIT) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {limit}s")
        time.sleep(0.02)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate one process we started (by its PID), killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_LIMIT)


@dataclass
class Namespace:
    """A network namespace we created; ``exec`` prefixes a command to run inside it."""

    name: str

    @classmethod
    def create(cls, prefix: str = "ocfa-port-") -> Namespace:
        name = prefix + secrets.token_hex(4)
        run(["ip", "netns", "add", name])
        ns = cls(name)
        ns.run(["ip", "link", "set", "dev", "lo", "up"])
        return ns

    def exec(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return run(self.exec(argv), check=check, **kwargs)

    def link(self, name: str) -> dict | None:
        """``ip -j link show`` of one device in the namespace, or None when it is absent."""
        result = self.run(["ip", "-j", "link", "show", "dev", name], check=False)
        return json.loads(result.stdout)[0] if result.returncode == 0 else None

    def delete(self) -> None:
        run(["ip", "netns", "delete", self.name], check=False)


@dataclass
class OVS:
    """ovsdb-server and ovs-vswitchd of one test, inside ``ns``, state under ``root``."""

    ns: Namespace
    root: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def rundir(self) -> Path:
        return self.root / "run"

    @property
    def db(self) -> str:
        """The agent's ``ovsdb`` parameter for this OVS."""
        return f"unix:{self.rundir / 'db.sock'}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "OVS_RUNDIR": str(self.rundir),
            "OVS_DBDIR": str(self.root / "db"),
            "OVS_LOGDIR": str(self.root / "log"),
        }

    def start(self) -> None:
        for sub in ("run", "db", "log"):
            (self.root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        dbfile = self.root / "db" / "conf.db"
        run(["ovsdb-tool", "create", str(dbfile), str(SCHEMA)])
        self._spawn(
            ["ovsdb-server", str(dbfile), f"--remote=p{self.db}",
             f"--unixctl={self.rundir / 'ovsdb-server.ctl'}",
             f"--log-file={self.root / 'log' / 'ovsdb-server.log'}"]
        )
        wait_until("ovsdb-server's socket", (self.rundir / "db.sock").exists)
        self.vsctl("--no-wait", "init")
        self._spawn(
            ["ovs-vswitchd", self.db,
             f"--unixctl={self.rundir / 'ovs-vswitchd.ctl'}",
             f"--log-file={self.root / 'log' / 'ovs-vswitchd.log'}"]
        )
        wait_until("ovs-vswitchd's control socket", (self.rundir / "ovs-vswitchd.ctl").exists)

    def _spawn(self, argv: list[str]) -> None:
        # `ip netns exec` execs the program, so the Popen PID is the daemon's own.
        self.procs.append(
            subprocess.Popen(self.ns.exec(argv), env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        self.procs.clear()

    def vsctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.ns.run(["ovs-vsctl", f"--db={self.db}", "--timeout=10", *args], check=check, env=self.env)

    def add_bridge(self, name: str) -> None:
        self.vsctl("add-br", name, "--", "set", "Bridge", name, "datapath_type=netdev")

    def get(self, table: str, record: str, column: str) -> str:
        return self.vsctl("get", table, record, column).stdout.strip()
