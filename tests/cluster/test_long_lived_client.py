"""The drill's long-lived clients (idl_client.py and ovsdbapp_client.py, through
LongLivedWriter) against a real ovsdb-server of their own on loopback: no lab, no root. TCP,
as in the lab: OVS probes only TCP and SSL connections, never a unix socket's.

What the drill relies on, checked where it can be provoked at will, for both clients:
acknowledged writes are counted and in the database, the client survives its server's death
in ONE process and reconnects by itself, and it exits as soon as the drill closes its stdin.
For the bare IDL: a server that stops answering costs it the default probe (5 s of silence,
then 5 s more: the write ends with TRY_AGAIN, there is no transaction timeout). For ovsdbapp:
its TRY_AGAIN is retried inside the write after sleeping 1, 2, 4, 8... s, so one write spans
the outage and ends acknowledged, and its debug log says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pytest

from ocf_agents.lab.idl_writer import IDL, KINDS, OVSDBAPP, LongLivedWriter, why_unavailable
from ocf_agents.lab.writer import Write

T = TypeVar("T")
NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"
ADDRESS = "127.0.0.31"


def why_not(kind: str) -> str | None:
    for tool in ("ovsdb-server", "ovsdb-tool", "ovn-nbctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make deps)"
    return why_unavailable(kind)


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


class Server:
    """A standalone northbound ovsdb-server on ADDRESS (and ``dir/nb.sock``, to read it back);
    restartable on its database."""

    def __init__(self, dir: Path) -> None:
        self.dir = dir
        self.db = dir / "nb.db"
        self.socket = dir / "nb.sock"
        self.port = free_port(ADDRESS)
        self.remote = f"tcp:{ADDRESS}:{self.port}"
        subprocess.run(["ovsdb-tool", "create", str(self.db), NB_SCHEMA], check=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["ovsdb-server", f"--remote=punix:{self.socket}",
             f"--remote=ptcp:{self.port}:{ADDRESS}", f"--unixctl={self.dir / 's.ctl'}",
             f"--log-file={self.dir / 'server.log'}", str(self.db)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait("the server's socket", self.socket.exists)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    def switches(self) -> set[str]:
        return set(subprocess.run(
            ["ovn-nbctl", f"--db=unix:{self.socket}", "--bare", "--columns=name", "list",
             "Logical_Switch"], capture_output=True, text=True, check=True).stdout.split())


def wait(what: str, check: Callable[[], T], limit: float = 30.0) -> T:
    deadline = time.monotonic() + limit
    while not (result := check()):
        assert time.monotonic() < deadline, f"no {what} after {limit:.0f}s"
        time.sleep(0.05)
    return result


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    reason = why_not(request.param)
    if reason:
        pytest.skip(reason)
    return str(request.param)


@pytest.fixture
def server(tmp_path: Path, kind: str) -> Iterator[Server]:
    server = Server(tmp_path)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def client(server: Server, kind: str, tmp_path: Path) -> Iterator[LongLivedWriter]:
    log = str(tmp_path / "client.log") if kind == OVSDBAPP else None
    client = LongLivedWriter("ll", remote=server.remote, wrap=lambda argv: argv, kind=kind,
                             log_path=log)
    client.start()
    try:
        yield client
    finally:
        client.stop()


def acked_after(client: LongLivedWriter, moment: float, limit: float = 30.0) -> Write:
    return wait("acknowledged write", lambda: client.first_ack_after(moment), limit)


# ovsdbapp 2.1 after a drop with a write queued: 1 + 2 + 4 + 8 + 8 s of sleeps (23 s measured
# on loopback, each retry one step of the reconnection), and one more 8 s when unlucky.
OVSDBAPP_RECOVERY_S = 45.0


def test_acknowledged_writes_are_in_the_database_and_paced(server: Server,
                                                           client: LongLivedWriter) -> None:
    acked_after(client, time.monotonic() + 1.0)
    writes = client.snapshot()
    assert {w.outcome for w in writes} == {"success"} and len(client.connections) == 1
    assert len(writes) < 40  # a write every 0.05 s at most, not thousands a second
    assert not client.missing(server.switches(), writes)


def test_the_client_reconnects_by_itself_in_the_same_process(server: Server, kind: str,
                                                            client: LongLivedWriter) -> None:
    acked_after(client, time.monotonic())
    pid = client.pid
    server.kill()
    killed = time.monotonic()
    server.start()
    acked_after(client, killed, OVSDBAPP_RECOVERY_S)
    assert client.pid == pid and client.running()
    assert len(client.connections) == 2 and client.connections[1] > killed
    # The IDL: its back-off, 1 s after the drop. ovsdbapp: OVSDBAPP_RECOVERY_S.
    assert client.longest_gap(killed, time.monotonic()) < (3 if kind == IDL else OVSDBAPP_RECOVERY_S)
    assert not client.missing(server.switches(), client.snapshot())


@pytest.mark.parametrize("kind", [OVSDBAPP], indirect=True)
def test_ovsdbapp_retries_inside_the_write_and_logs_why(server: Server,
                                                        client: LongLivedWriter) -> None:
    acked_after(client, time.monotonic())
    server.kill()
    killed = time.monotonic()
    server.start()
    acked_after(client, killed, OVSDBAPP_RECOVERY_S)
    # The write that spanned the outage: the longest to end after the kill (the first to end
    # after it may have been answered just before it, its end noted late on a busy machine).
    caught = max((w for w in client.snapshot() if w.finished > killed),
                 key=lambda w: w.finished - w.started)
    # One execute() through the outage (at least the OVS library's back-off: 1 s, and with
    # ovsdbapp before 2.1.1 its own sleeps on top), acknowledged in the end.
    assert caught.acked and caught.finished - max(caught.started, killed) > 0.5
    assert {w.outcome for w in client.snapshot()} == {"success"}
    assert client.log_path is not None
    log = Path(client.log_path).read_text()
    assert "returned TRY_AGAIN, retrying" in log  # ovsdbapp's words (later ones add a txn id)
    assert "connection closed by peer" in log and " mono=" in log


@pytest.mark.parametrize("kind", [IDL], indirect=True)  # ovsdbapp retries inside the write
def test_a_silent_server_costs_the_default_probe_then_the_write_is_tried_again(
        server: Server, client: LongLivedWriter) -> None:
    acked_after(client, time.monotonic())
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    failed = wait("a write that failed", lambda: next(
        (w for w in client.snapshot() if not w.acked), None), limit=20)
    os.kill(server.proc.pid, signal.SIGCONT)
    assert failed.outcome == "try again"
    assert 9 <= failed.finished - stopped <= 12  # probe after 5 s idle, dropped 5 s later
    acked_after(client, failed.finished)
    assert len(client.connections) == 2


def test_closing_stdin_stops_the_client_at_once(client: LongLivedWriter) -> None:
    acked_after(client, time.monotonic())
    began = time.monotonic()
    client.stop()
    assert not client.running() and time.monotonic() - began < 2
    assert client.death() is not None and "exited with 0" in client.death()
