"""The kernel's TCP tables (``/proc/PID/net/tcp`` and ``tcp6``): whether a process has an
established connection to a peer right now, and how much of what went over it is not yet
acknowledged or read; which peers are connected to a local address and port.

Read from ``/proc`` rather than asked of ``ss``: a monitor runs every few seconds on every
node, and a program's start costs more than the read. A connection is the process's own only
when one of its file descriptors is that socket, since a namespace's table lists everyone's.
"""

from __future__ import annotations

import os

import _socket as socket  # the C module: socket.py pulls enum and selectors

from ocf_agents.ocf.record import Record

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Collection, Sequence

ESTABLISHED = "01"  # the "st" column of an established connection
V4_MAPPED = bytes(10) + b"\xff\xff"


class TcpConnection(Record):
    local: tuple[str, int]
    peer: tuple[str, int]
    tx_queue: int  # bytes sent and not yet acknowledged by the peer
    rx_queue: int  # bytes received and not yet read by the process


def decode_address(hex_addr: str) -> tuple[str, int]:
    """An address from /proc/net/tcp{,6} (little-endian 32-bit words) as (ip, port), in
    the canonical text form (an IPv4-mapped IPv6 address as IPv4)."""
    addr, port = hex_addr.split(":")
    raw = bytes.fromhex(addr)
    packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(packed) == 16 and packed.startswith(V4_MAPPED):
        packed = packed[12:]
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, packed), int(port, 16)


def connections_to(wanted: Sequence[tuple[int, tuple[str, int] | None]]) -> list[TcpConnection | None]:
    """For each ``(pid, peer)``, the established connection of that process to ``peer``
    (ip in canonical text form, port), or None (always None when ``peer`` is None).

    The kernel walks its whole socket table for each read of ``/proc/PID/net/tcp`` (2-3 ms
    here, more than the rest of a backup's monitor after the interpreter's start), so each
    table is read once per network namespace, whatever the number of processes asked about in
    it (a node's two ovsdb-servers share one), and only rows to the wanted peers are parsed.
    """
    lookups: list[tuple[int, tuple[str, str], tuple[str, int]] | None] = []
    reads: dict[tuple[str, str], tuple[int, set[tuple[str, int]]]] = {}  # table -> (pid, peers)
    for pid, peer in wanted:
        if peer is None:
            lookups.append(None)
            continue
        table = (_network_namespace(pid), "tcp6" if ":" in peer[0] else "tcp")
        reads.setdefault(table, (pid, set()))[1].add(peer)
        lookups.append((pid, table, peer))
    rows = {table: _established(pid, table[1], peers) for table, (pid, peers) in reads.items()}
    found = []
    for item in lookups:
        if item is None:
            found.append(None)
            continue
        pid, table, peer = item
        candidates = [(inode, conn) for inode, conn in rows[table] if conn.peer == peer]
        inodes = _socket_inodes(pid) if candidates else set()  # the process's own sockets among them
        found.append(next((conn for inode, conn in candidates if inode in inodes), None))
    return found


def _network_namespace(pid: int) -> str:
    """Which network namespace the process is in (unique per pid when it is gone)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return f"pid {pid}"


def _established_rows(pid: int | str, table: str) -> list[list[str]]:
    """The columns of each established connection's row in the socket table ``table`` (tcp
    or tcp6) of the process's network namespace; none when the table cannot be read."""
    try:
        with open(f"/proc/{pid}/net/{table}", encoding="ascii") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    return [cols for cols in (line.split() for line in lines) if len(cols) >= 10 and cols[3] == ESTABLISHED]


def _established(pid: int, table: str, peers: set[tuple[str, int]]) -> list[tuple[str, TcpConnection]]:
    """(socket inode, connection) of the established connections to ``peers`` in the socket
    table ``table`` (tcp or tcp6) of the process's network namespace."""
    rows = []
    for cols in _established_rows(pid, table):
        remote = decode_address(cols[2])
        if remote in peers:
            tx, rx = (int(x, 16) for x in cols[4].split(":"))
            rows.append((cols[9], TcpConnection(decode_address(cols[1]), remote, tx, rx)))
    return rows


def peers_of(ip: str, ports: Collection[int]) -> set[tuple[str, int, int]]:
    """``(peer ip, peer port, local port)`` of every established connection to ``ip`` on one
    of ``ports`` in this process's network namespace: the clients a server on that address
    holds right now.

    The addresses are compared in the table's own (hexadecimal) form, so that only the
    matching rows are decoded: a promoted node's monitor asks this every time, and a busy
    southbound database has a row per chassis.
    """
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    wanted = {f"{_encode(family, ip)}:{port:04X}": port for port in ports}
    table = "tcp6" if family == socket.AF_INET6 else "tcp"
    return {(*decode_address(cols[2]), wanted[cols[1]]) for cols in _established_rows("self", table)
            if cols[1] in wanted}


def _encode(family: int, ip: str) -> str:
    """An address as /proc/net/tcp{,6} shows it (the inverse of :func:`decode_address`)."""
    packed = socket.inet_pton(family, ip)
    return "".join(packed[i : i + 4][::-1].hex().upper() for i in range(0, len(packed), 4))


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets the process holds open (``socket:[INODE]`` links in its fd)."""
    inodes: set[str] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes
