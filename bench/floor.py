#!/usr/bin/python3 -S
"""The floor of a recurring ovndb-servers monitor: the reads it cannot avoid, and nothing else.

Not an agent: no parameters, no validation, no exit reasons, no score. It reads both pidfiles
and ``/proc/<pid>/stat``, asks both control sockets for ``ovsdb-server/sync-status`` and reads
``/proc/net/tcp``, importing only ``os`` and the C module ``_socket``. ``python -m
bench.profile`` times it beside our agent's monitor and OVN's, to show what a lean monitor
path could reach. Usage: ``floor.py RUNDIR``; exits 0 when both servers are backups, 8 when
both are active, 7 otherwise (as the agents' monitors do).
"""

import os
import sys

import _socket

REQUEST = b'{"id":0,"method":"ovsdb-server/sync-status","params":[]}'


def role(rundir: str, db: str) -> str:
    try:
        with open(f"{rundir}/ovn{db}_db.pid") as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/stat") as f:
            if "(ovsdb-server)" not in f.read():
                return "stopped"
    except (OSError, ValueError):
        return "stopped"
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(2.0)
    try:
        sock.connect(f"{rundir}/ovn{db}_db.ctl")
        sock.sendall(REQUEST)
        reply = b""
        while not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    except OSError:
        return "not-answering"
    finally:
        sock.close()
    text = reply.decode()
    start = text.find("state: ")
    return text[start + 7:text.find("\\n", start)] if start >= 0 else "unknown"


def main() -> int:
    rundir = sys.argv[1]
    roles = {role(rundir, "nb"), role(rundir, "sb")}
    with open("/proc/net/tcp") as f:
        f.read()  # the replication connections, as the agent checks them
    return {frozenset({"backup"}): 0, frozenset({"active"}): 8}.get(frozenset(roles), 7)


if __name__ == "__main__":
    sys.exit(main())
