"""One ovsdb-server of OVN (northbound or southbound) as the ovndb-servers agent sees it.

Everything here reads the server directly, without spawning a program: the pidfile and
``/proc`` (is the process alive, not a zombie, really an ovsdb-server), the control socket
(``ovsdb-server/sync-status``: active or backup, replicating from where; parsed here only)
and the database socket (JSON-RPC ``transact`` for the Connection rows). Whether a backup's
replication connection is established right now, and has read everything the active server
sent, is the kernel's TCP table, read by :mod:`ocf_agents.net.tcp` for the sync-from targets
parsed here. Starting and stopping the processes stays with ``ovn-ctl``.
"""

from __future__ import annotations

import os
import time

import _socket as socket  # the C module: socket.py pulls enum and selectors (see .jsonrpc)

from ocf_agents.net import tcp
from ocf_agents.ocf.record import Record

from . import jsonrpc, unixctl

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Any, Sequence

SERVER_PROGRAM = "ovsdb-server"
NORTHD_PROGRAM = "ovn-northd"
DEFAULT_TIMEOUT = 2.0  # seconds for one socket round trip (a healthy server answers in 0.1 ms)


class OvsdbError(Exception):
    """A database server refused or did not answer a request."""


class Database(Record):
    """Where one of OVN's databases lives under an ovn-ctl run directory."""

    key: str  # "nb" or "sb", as in ovn-ctl's option names
    schema: str  # OVN_Northbound / OVN_Southbound
    global_table: str  # NB_Global / SB_Global, whose "connections" column lists the remotes
    rundir: str

    @property
    def title(self) -> str:
        return "northbound" if self.key == "nb" else "southbound"

    @property
    def pidfile(self) -> str:
        return os.path.join(self.rundir, f"ovn{self.key}_db.pid")

    @property
    def control_socket(self) -> str:
        return os.path.join(self.rundir, f"ovn{self.key}_db.ctl")

    @property
    def db_socket(self) -> str:
        return os.path.join(self.rundir, f"ovn{self.key}_db.sock")


def databases(rundir: str) -> tuple[Database, Database]:
    return (
        Database("nb", "OVN_Northbound", "NB_Global", rundir),
        Database("sb", "OVN_Southbound", "SB_Global", rundir),
    )


# -- processes ------------------------------------------------------------------------------
def live_pid(pidfile: str, program: str) -> int | None:
    """The pid in ``pidfile`` if that process is alive, not a zombie, and runs ``program``.

    An empty or stale pidfile, a pid reused by another program, or an unreaped (zombie)
    daemon all mean "not running": each has fooled a pid-only check.
    """
    try:
        with open(pidfile, encoding="ascii") as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_running(pid, program) else None


def cpu_ticks(pid: int) -> int | None:
    """User and system time the process has used, in clock ticks (fields 14 and 15 of
    /proc/PID/stat, counted after the parenthesised command name, which may hold spaces), or
    None when it is gone. A server that does not answer but whose count grows is busy, not
    hung."""
    stat = _proc_stat(pid)
    if stat is None:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _proc_stat(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def kill_server(pid: int) -> None:
    """SIGKILL a server (only ever a pid ``live_pid`` has checked). Its ``--monitor`` parent
    restarts crashed servers only (SIGSEGV, SIGABRT...) and exits with a killed one."""
    import signal  # here: it imports enum, which no other action needs

    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_daemon(pidfile: str, program: str, timeout: float) -> bool:
    """SIGTERM the ``program`` whose pid ``pidfile`` holds and wait up to ``timeout`` seconds
    for it to be gone; whether it is (True too when it was not running).

    What ``ovn-ctl stop_northd`` does without the shell: ovs-lib's stop_daemon asks the daemon
    to exit and then sleeps 0.1 s before it looks again, 150 ms of a demote in the lab (every
    client waits for a demote). The fatal-signal handler of an OVS daemon removes its pidfile
    and control socket; its ``--monitor`` parent exits with a terminated child."""
    import signal  # here: it imports enum, which no other action needs

    pid = live_pid(pidfile, program)
    if pid is None:
        return True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while _is_running(pid, program):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


def _is_running(pid: int, program: str) -> bool:
    """Whether ``pid`` runs ``program`` and is not a zombie (unreaped)."""
    stat = _proc_stat(pid)
    if stat is None:
        return False
    comm = stat[stat.find("(") + 1 : stat.rfind(")")]
    return comm == program[:15] and stat[stat.rfind(")") + 2] not in "ZX"


# -- control socket ---------------------------------------------------------------------------
class SyncStatus(Record):
    """``ovsdb-server/sync-status`` read into fields.

    ``replicating`` only says that the server once reached the ``replicating`` state with
    its current active server: ovsdb-server keeps saying so after the connection drops
    (observed on OVS 3.1), so whether it is connected is read from the kernel instead.
    """

    role: str  # "active" or "backup"
    sync_from: str | None  # "tcp:ADDR:PORT" for a backup
    replicating: bool


def parse_sync_status(text: str) -> SyncStatus:
    """Read the ``state:`` line wherever it stands (newer servers print other lines first)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() not in fields:
            fields[name.strip()] = value.strip()
    role = fields.get("state", "")
    if role not in ("active", "backup"):
        raise OvsdbError(f"unexpected sync-status: {text.strip()!r}")
    target = fields.get("replicating") or fields.get("connecting")
    return SyncStatus(role, target, "replicating" in fields)


def sync_status(db: Database, timeout: float = DEFAULT_TIMEOUT) -> SyncStatus:
    return parse_sync_status(unixctl.call(db.control_socket, "ovsdb-server/sync-status", timeout=timeout))


def make_backup(db: Database, target: str, probe_ms: int, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Replicate from ``target`` (``tcp:ADDR:PORT``): the server becomes a read-only backup."""
    ctl = db.control_socket
    unixctl.call(ctl, "ovsdb-server/set-active-ovsdb-server", [target], timeout)
    unixctl.call(ctl, "ovsdb-server/set-active-ovsdb-server-probe-interval", [str(probe_ms)], timeout)
    unixctl.call(ctl, "ovsdb-server/connect-active-ovsdb-server", timeout=timeout)


def make_active(db: Database, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Stop replicating: the server becomes active and accepts writes."""
    unixctl.call(db.control_socket, "ovsdb-server/disconnect-active-ovsdb-server", timeout=timeout)


def add_remote(db: Database, remote: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    if remote not in list_remotes(db, timeout):
        unixctl.call(db.control_socket, "ovsdb-server/add-remote", [remote], timeout)


def remove_remote(db: Database, remote: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    if remote in list_remotes(db, timeout):
        unixctl.call(db.control_socket, "ovsdb-server/remove-remote", [remote], timeout)


def list_remotes(db: Database, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    return unixctl.call(db.control_socket, "ovsdb-server/list-remotes", timeout=timeout).split()


# -- addresses ------------------------------------------------------------------------------
def remote(proto: str, addr: str, port: int, passive: bool = False) -> str:
    """An OVSDB connection string; IPv6 addresses in brackets (``tcp:[::1]:6641``).

    Active form ``tcp:ADDR:PORT``; passive (listening) form ``ptcp:PORT:ADDR``.
    """
    host = f"[{addr}]" if ":" in addr else addr
    return f"p{proto}:{port}:{host}" if passive else f"{proto}:{host}:{port}"


def replication_connections(backups: Sequence[tuple[int, str | None]]) -> list[tcp.TcpConnection | None]:
    """The established connection of each backup, given as ``(pid, sync-from target)``, to
    its active server, or None (also for no target, or one that names no IP address).

    One call for all the node's backups, so that :func:`ocf_agents.net.tcp.connections_to`
    reads each kernel table once.
    """
    peers: list[tuple[int, tuple[str, int] | None]] = []
    for pid, target in backups:
        parsed = parse_remote(target or "")
        peers.append((pid, None if parsed is None else (parsed[1], parsed[2])))
    return tcp.connections_to(peers)


def parse_remote(target: str) -> tuple[str, str, int] | None:
    """(proto, ip, port) of an active remote ``tcp:ADDR:PORT`` / ``ssl:[ADDR]:PORT``."""
    proto, _, rest = target.partition(":")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return proto, socket.inet_ntop(family, socket.inet_pton(family, host)), int(port)
    except (OSError, ValueError):
        return None


# -- the database socket: JSON-RPC transact ---------------------------------------------------
def transact(db: Database, operations: list[dict[str, Any]], timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
    """Run one OVSDB transaction on the database's unix socket and return its results.

    Raises :class:`OvsdbError` when the server cannot be reached or any operation fails.
    """
    try:
        reply = jsonrpc.call(db.db_socket, "transact", [db.schema, *operations], 1, timeout)
    except (OSError, ValueError) as err:
        raise OvsdbError(f"{db.title} database at {db.db_socket} did not answer: {err}") from None
    if reply.get("error") is not None:
        raise OvsdbError(f"{db.title} database refused the transaction: {reply['error']}")
    results = reply.get("result") or []
    for result in results:
        if isinstance(result, dict) and result.get("error"):
            raise OvsdbError(f"{db.title} database: {result['error']}: {result.get('details', '')}")
    return results


def _uuids(set_value: Any) -> list[str]:
    """UUIDs of an OVSDB set column value (["set", [["uuid", U]...]] or ["uuid", U])."""
    if set_value and set_value[0] == "uuid":
        return [set_value[1]]
    if set_value and set_value[0] == "set":
        return [u[1] for u in set_value[1]]
    return []


def connection_rows(db: Database, timeout: float = DEFAULT_TIMEOUT) -> dict[str, dict[str, Any]]:
    """The Connection rows the global row lists, by UUID: their target and inactivity_probe."""
    results = transact(
        db,
        [
            {"op": "select", "table": db.global_table, "where": [], "columns": ["connections"]},
            {"op": "select", "table": "Connection", "where": [], "columns": ["_uuid", "target", "inactivity_probe"]},
        ],
        timeout,
    )
    listed = set()
    for row in results[0].get("rows", []):
        listed.update(_uuids(row["connections"]))
    rows = {}
    for row in results[1].get("rows", []):
        uuid = row["_uuid"][1]
        if uuid in listed:
            probe = row["inactivity_probe"]
            rows[uuid] = {"target": row["target"], "inactivity_probe": probe if isinstance(probe, int) else None}
    return rows


def set_connection(db: Database, target: str, probe_ms: int, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Make the global row's Connection rows for ``port`` be exactly one: ``target`` with
    ``inactivity_probe=probe_ms``.

    Rows on ``port`` are the agent's (whatever address and protocol they name, since
    master_ip or the protocol may have changed): the first is updated, extra ones are
    unlisted. Rows on other ports are the operator's and stay as they are.
    """
    rows = connection_rows(db, timeout)
    ours = [uuid for uuid, row in rows.items() if _target_port(row["target"]) == port]
    wanted = {"target": target, "inactivity_probe": probe_ms}
    if len(ours) == 1 and rows[ours[0]] == wanted:
        return
    global_where: list = []
    if ours:
        keep, extra = ours[0], ours[1:]
        ops: list[dict[str, Any]] = [
            {"op": "update", "table": "Connection", "where": [["_uuid", "==", ["uuid", keep]]], "row": wanted}
        ]
        if extra:
            extras = ["set", [["uuid", u] for u in extra]]
            ops.append({"op": "mutate", "table": db.global_table, "where": global_where,
                        "mutations": [["connections", "delete", extras]]})
    else:
        ops = [
            {"op": "insert", "table": "Connection", "row": wanted, "uuid-name": "conn"},
            {"op": "mutate", "table": db.global_table, "where": global_where,
             "mutations": [["connections", "insert", ["set", [["named-uuid", "conn"]]]]]},
        ]
    ops.append({"op": "comment", "comment": "ovndb-servers: Connection row of the promoted node"})
    transact(db, ops, timeout)


def _target_port(target: str) -> int | None:
    """The port of a passive target ``ptcp:PORT[:ADDR]`` / ``pssl:PORT[:ADDR]``."""
    parts = target.split(":")
    try:
        return int(parts[1]) if len(parts) > 1 and parts[0] in ("ptcp", "pssl") else None
    except ValueError:
        return None


def ensure_global_row(db: Database, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Create the (single) global row if the database has none yet (``ovn-nbctl init``)."""
    rows = transact(db, [{"op": "select", "table": db.global_table, "where": [], "columns": ["_uuid"]}], timeout)
    if not rows[0].get("rows"):
        transact(db, [{"op": "insert", "table": db.global_table, "row": {}}], timeout)


def set_global_external_id(db: Database, key: str, value: str, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Set ``external_ids:key=value`` in the global row (an active server only: one commit).

    OVSDB replicates in commit order, so a replica that holds this value holds every commit
    before it: the agent's barriers (ovndb/barrier.py, docs/ovndb-monitor-states.md).
    """
    mutations = [["external_ids", "delete", ["set", [key]]], ["external_ids", "insert", ["map", [[key, value]]]]]
    transact(db, [{"op": "mutate", "table": db.global_table, "where": [], "mutations": mutations}], timeout)


def global_external_id(db: Database, key: str, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """``external_ids:key`` of the global row, read from this server's own copy (a backup
    answers reads too)."""
    results = transact(db, [{"op": "select", "table": db.global_table, "where": [], "columns": ["external_ids"]}],
                       timeout)
    for row in results[0].get("rows", []):
        for name, value in row["external_ids"][1]:
            if name == key:
                return str(value)
    return None


def last_map_value(path: str, key: str) -> str | None:
    """The string value a standalone database file last recorded for ``key`` in a map
    column, for a server that is not running (its own copy cannot be asked). Searched from
    the file's end, in the kernel's page cache, not parsed: a fraction of the time the server
    takes to load the file. A record that removed the key names it too, with the value it
    removed: after a removal this is that value. None when the file never recorded the key
    (with a value written without JSON escapes) or cannot be read."""
    import mmap  # here: only a failed promoted node's start reads a whole database file

    needle = f'["{key}","'.encode()
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = data.rfind(needle)
            end = data.find(b'"]', found + len(needle)) if found >= 0 else -1
            value = data[found + len(needle):end].decode() if end >= 0 else ""
    except (OSError, ValueError):  # an empty file cannot be mapped; not UTF-8
        return None
    return value if value and "\\" not in value and '"' not in value else None


def last_commit(path: str, tail: int = 1 << 16) -> dict[str, Any] | None:
    """The last record of a standalone database file (``OVSDB JSON <length> <hash>`` then the
    record), read from the file's end only: its cost does not grow with the database. None
    when the file has no record in its last ``tail`` bytes or cannot be read."""
    import json  # here: only a demote reads a database file

    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - tail))
            data = f.read()
    except OSError:
        return None
    header = data.rfind(b"OVSDB JSON ")
    body = data.find(b"\n", header) + 1 if header >= 0 else 0
    try:
        record = json.loads(data[body:]) if body else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
