"""The drill's long-lived client: ONE OVSDB IDL connection to the northbound database, held
for the whole drill, writing a Logical_Switch per transaction, one after the other.

Real OVN clients (ovn-northd, ovn-controller, OpenStack's and oVirt's drivers) keep one IDL
session open for days and let it reconnect by itself; the one-shot writer (writer.py) starts a
new ``ovn-nbctl`` per write and so never meets a stale connection. This program is the client
the operators actually run, on Debian's python3-openvswitch, with the IDL's defaults as those
clients have them:

- ``Idl(remote, helper)``: default probe interval (ovs.reconnect's 5 s: an idle connection is
  probed after 5 s and dropped when 5 s more pass without an answer), ``leader_only=True``;
- ovs.reconnect's back-off: a dropped session is tried again after 1 s, each failed attempt
  doubling that up to 8 s (an attempt nobody answers is given as long, at least 1 s);
- no transaction timeout (ovn-northd has none; the OpenStack driver's 180 s never fires in a
  fail-over): a transaction ends when the server answers or the session drops (TRY_AGAIN);
- after a write that failed, the IDL's documented retry: wait until ``change_seqno`` moves
  (the contents fetched again after a reconnect), at most RETRY_AFTER_S, then write again;
- a write every WRITE_INTERVAL_S at most, one at a time.

It runs inside the lab's client namespace (idl_writer.py starts it through nsenter) as
``python3 -m ocf_agents.lab.idl_client REMOTE PREFIX [PROBE_MS|-] [once]`` (``-``: the default
probe; ``once``: a client that never reconnects by itself, its session given up when it drops)
and prints one JSON line per event on
stdout: ``{"connected": T}`` when a session is ready for writes, ``{"seq": N, "outcome": S,
"started": T0, "finished": T1}`` per transaction (S is Transaction's status: "success", "try
again", "error: ...", "not locked"...). Times are ``time.monotonic()``, one clock for every
process of the machine whatever its network namespace. It exits when its stdin closes (the
drill stopped it, or the drill is gone).
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time

import ovs.db.idl
import ovs.poller
from ovs.db.idl import Idl, Transaction

NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"
RETRY_AFTER_S = 1.0
# A write starts at most this often: the outage is seen to within it, and the database stays
# small enough to be read back after every step (unpaced, the client writes thousands a second).
WRITE_INTERVAL_S = 0.05


class Stopped(Exception):
    """stdin closed: the drill wants the client gone."""


def connect(remote: str, probe_ms: int | None = None, reconnect: bool = True) -> Idl:
    """The IDL on ``remote``, replicating only what the writes need (switch names), with the
    default inactivity probe or ``probe_ms`` (what ovn-northd's and ovn-controller's probe
    settings and the OpenStack driver's ovsdb_probe_interval set). Without ``reconnect``,
    the first attempt is the only one (ovs.reconnect's max_tries): a client that handles a
    dropped session itself, or not at all."""
    helper = ovs.db.idl.SchemaHelper(location=NB_SCHEMA)
    helper.register_columns("Logical_Switch", ["name"])
    idl = Idl(remote, helper, probe_interval=probe_ms)
    if not reconnect:
        idl._session.reconnect.set_max_tries(0)
    return idl


_EMIT_LOCK = threading.Lock()


def emit(event: dict[str, object]) -> None:
    """One JSON line on stdout; a lock, because ovsdbapp_client.py emits from two threads
    (its writer and ovsdbapp's connection thread) and a line must never be split."""
    with _EMIT_LOCK:
        print(json.dumps(event), flush=True)


def block(idl: Idl, txn: Transaction | None = None, timeout_s: float | None = None) -> None:
    """Sleep until the IDL (or ``txn``) has something to do, or ``timeout_s`` passed; raise
    Stopped when stdin is closed."""
    poller = ovs.poller.Poller()
    idl.wait(poller)
    if txn is not None:
        txn.wait(poller)
    if timeout_s is not None:
        poller.timer_wait(int(timeout_s * 1000))
    poller.fd_wait(sys.stdin.fileno(), ovs.poller.POLLIN)
    poller.block()
    if select.select([sys.stdin], [], [], 0)[0] and not os.read(sys.stdin.fileno(), 4096):
        raise Stopped


def ready(idl: Idl) -> bool:
    """Connected and monitoring: a transaction sent now goes to a server (the IDL has no
    public question for it in 3.1)."""
    return idl._session.is_connected() and idl.state == Idl.IDL_S_MONITORING


def write(idl: Idl, name: str) -> str:
    """One transaction inserting the switch ``name``, run to its end; its outcome."""
    txn = Transaction(idl)
    txn.insert(idl.tables["Logical_Switch"]).name = name
    status = txn.commit()
    while status == Transaction.INCOMPLETE:
        idl.run()
        block(idl, txn)
        status = txn.commit()
    return f"error: {txn.get_error()}" if status == Transaction.ERROR else status


class Client:
    """The IDL and what the client remembers between writes."""

    def __init__(self, remote: str, prefix: str, probe_ms: int | None = None,
                 reconnect: bool = True) -> None:
        self.idl = connect(remote, probe_ms, reconnect)
        self.prefix = prefix
        self.session: int | None = None  # the session last reported connected

    def report_session(self) -> None:
        """Say when a new session became ready (the first one, then each reconnection)."""
        if self.idl._session.get_seqno() != self.session:
            self.session = self.idl._session.get_seqno()
            emit({"connected": time.monotonic()})

    def wait_ready(self, not_before: float, failed_seqno: int | None) -> None:
        """Run the IDL until it is ready and ``not_before`` has come; after a failed write
        (``failed_seqno``: change_seqno before it) also until the contents changed or
        RETRY_AFTER_S passed."""
        retry_at = time.monotonic() + RETRY_AFTER_S
        while True:
            self.idl.run()
            if not ready(self.idl):
                block(self.idl)
                continue
            self.report_session()
            if failed_seqno is not None and self.idl.change_seqno != failed_seqno:
                failed_seqno = None
            now = time.monotonic()
            wake = max(not_before, retry_at if failed_seqno is not None else now)
            if now >= wake:
                return
            block(self.idl, timeout_s=wake - now)

    def run(self) -> None:
        """Write ``prefix-1``, ``prefix-2``... a write every WRITE_INTERVAL_S at most, until
        stdin closes."""
        seq, started, failed_seqno = 0, -WRITE_INTERVAL_S, None
        while True:
            self.wait_ready(started + WRITE_INTERVAL_S, failed_seqno)
            seq += 1
            before, started = self.idl.change_seqno, time.monotonic()
            outcome = write(self.idl, f"{self.prefix}-{seq}")
            emit({"seq": seq, "outcome": outcome, "started": started,
                  "finished": time.monotonic()})
            failed_seqno = None if outcome == Transaction.SUCCESS else before


def main(argv: list[str]) -> int:
    remote, prefix, probe, mode = (argv + ["-", ""])[:4]
    try:
        Client(remote, prefix, None if probe == "-" else int(probe), mode != "once").run()
    except (Stopped, BrokenPipeError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
