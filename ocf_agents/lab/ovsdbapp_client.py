"""The drill's long-lived client as OpenStack's OVN driver is: ovsdbapp on the northbound VIP.

Neutron's OVN mechanism driver (and every other OpenStack consumer of OVN) never speaks the
OVS IDL directly: it builds ``OvsdbIdl.from_server(remote, "OVN_Northbound")`` (the schema
fetched from the server, every table registered), wraps it in ``Connection(idl, timeout)``
(a thread that runs the IDL and commits the queued transactions), hands that to
``OvnNbApiIdlImpl`` and writes with ``api.ls_add(name).execute(check_error=True)``. Those
layers decide how long a write waits through a fail-over, not the IDL alone: a transaction
that ends with TRY_AGAIN (its session dropped) is tried again by ovsdbapp after sleeping
``min(2 ** retries, time_remaining, 8)`` s, on top of ovs.reconnect's back-off, and the IDL
only advances when that thread calls ``idl.run()``. This program is that client, so that the
drill measures what an OpenStack cloud's writes see.

It runs in the lab's client namespace on Debian's python3 (python3-ovsdbapp) as
``python3 -m ocf_agents.lab.ovsdbapp_client REMOTE PREFIX [PROBE_MS|-] [TIMEOUT_S|-] [LOG|-]``
and prints the lines idl_client.py prints (``{"connected": T}`` when a session is ready for
writes, ``{"seq": N, "outcome": S, "started": T0, "finished": T1}`` per write): one write is
one ``execute()``, ``success`` when it returned, ``error: ...`` when it raised (ovsdbapp's own
retries happen inside it, so there is no "try again"). PROBE_MS is the IDL's inactivity probe
(``-``: the IDL's 5 s; Neutron's ``ovsdb_probe_interval`` defaults to 60 s), TIMEOUT_S the
Connection's timeout (``-``: Neutron's ``ovsdb_timeout``, 180 s), LOG a file for the debug log
of ovsdbapp and of the OVS library under it (wall clock and ``time.monotonic()`` on each line:
where the seconds of a fail-over go). It exits when its stdin closes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from ovsdbapp.backend.ovs_idl import connection, vlog
from ovsdbapp.schema.ovn_northbound import impl_idl

from .idl_client import WRITE_INTERVAL_S, emit

SCHEMA = "OVN_Northbound"
DEFAULT_TIMEOUT_S = 180.0  # Neutron's [ovn] ovsdb_timeout
LOG = logging.getLogger("drill.ovsdbapp_client")  # the client's own events, in the same log
LOG_FORMAT = "%(asctime)s.%(msecs)03d mono=%(mono).3f %(threadName)s %(name)s:%(module)s %(message)s"


class ReportingIdl(connection.OvsdbIdl):
    """ovsdbapp's own IDL class, which also says when a session became ready for writes (the
    drill waits for a session of a given age, and the log shows each reconnection)."""

    reported: int | None = None  # the session seqno last reported

    def run(self) -> bool:
        changed = super().run()
        seqno = self._session.get_seqno()
        if (seqno != self.reported and self._session.is_connected()
                and self.state == self.IDL_S_MONITORING):
            self.reported = seqno
            report({"connected": time.monotonic()})
        return changed


def report(event: dict[str, object]) -> None:
    """An event for the drill (stdout), and in the debug log beside the library's lines."""
    emit(event)
    LOG.info("%s", event)


class MonotonicFilter(logging.Filter):
    """Puts ``time.monotonic()`` on each record (the clock of the drill's events) and drops
    the poller's wake-ups (two lines a write, saying only which descriptor woke it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.mono = time.monotonic()
        return record.module != "poller"


def log_to(path: str) -> None:
    """ovsdbapp's loggers and the OVS library's messages (routed into Python logging as
    Neutron does, vlog.use_python_logger) at DEBUG into ``path``."""
    handler = logging.FileHandler(path)
    handler.addFilter(MonotonicFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))
    for name in ("ovsdbapp", "ovs", LOG.name):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    vlog.use_python_logger()


def connect(remote: str, probe_ms: int | None, timeout_s: float) -> impl_idl.OvnNbApiIdlImpl:
    """The API as Neutron builds it; returns once the first session is monitoring."""
    idl = ReportingIdl.from_server(remote, SCHEMA, probe_interval=probe_ms)
    return impl_idl.OvnNbApiIdlImpl(connection.Connection(idl, timeout_s))


def failure(err: Exception, name: str) -> str:
    """A failed write's outcome: the exception's kind and, for ovsdbapp's TimeoutException,
    only its cause (the drill tallies writes by outcome; the commands it lists name the
    switch, which would make each failure a kind of its own)."""
    text = str(err).replace(name, "<switch>").split("cause: ")[-1]
    return f"error: {type(err).__name__}: {text}"


def write(api: impl_idl.OvnNbApiIdlImpl, name: str) -> str:
    """One ``ls_add`` as the driver runs it; its outcome (what the caller would see)."""
    try:
        api.ls_add(name).execute(check_error=True, log_errors=False)
    except Exception as err:  # noqa: BLE001 - every failure the caller sees is an outcome
        return failure(err, name)
    return "success"


def write_forever(api: impl_idl.OvnNbApiIdlImpl, prefix: str) -> None:
    """``prefix-1``, ``prefix-2``... one after the other, a write every WRITE_INTERVAL_S at
    most (as idl_client.py, so that both clients load the database alike)."""
    seq = 0
    while True:
        started = time.monotonic()
        seq += 1
        outcome = write(api, f"{prefix}-{seq}")
        report({"seq": seq, "outcome": outcome, "started": started,
                "finished": time.monotonic()})
        time.sleep(max(0.0, started + WRITE_INTERVAL_S - time.monotonic()))


def main(argv: list[str]) -> int:
    """Connect, write from a thread of its own, and exit as soon as the drill closes stdin
    (the writes may be inside ovsdbapp's retries, which nothing interrupts)."""
    remote, prefix, probe, timeout, log = (argv + ["-", "-", "-"])[:5]
    if log != "-":
        log_to(log)
    api = connect(remote, None if probe == "-" else int(probe),
                  DEFAULT_TIMEOUT_S if timeout == "-" else float(timeout))
    threading.Thread(target=write_forever, args=(api, prefix), name="writer", daemon=True).start()
    sys.stdin.read()  # until the drill closes it
    sys.stdout.flush()
    os._exit(0)  # ovsdbapp's thread may be inside a retry's sleep: do not wait for it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
