"""The control socket of an OVS daemon (``ovs-appctl -t SOCKET COMMAND``), spoken directly.

A unixctl socket takes one JSON-RPC request per command and answers with a result or an
error, both text. Speaking it from Python costs one socket round trip (about 0.1 ms) where
``ovs-appctl`` costs a process start (about 5 ms), and needs neither that program nor the
``ovs`` Python library: the monitor of an agent called every few seconds reads two of these
sockets, so the difference is most of its run time (docs/ovndb-monitor-states.md has the
measurements).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Sequence

MAX_REPLY = 1 << 20  # bytes; the replies this package reads are a few lines


class UnixctlError(Exception):
    """The daemon did not answer (no socket, refused, timed out) or answered with an error."""


def call(path: str, command: str, args: Sequence[str] = (), timeout: float = 5.0) -> str:
    """Run one control command on the daemon listening at ``path`` and return its text.

    Raises :class:`UnixctlError` naming the socket when the daemon cannot be reached within
    ``timeout`` seconds, closes the connection, or reports an error for the command.
    """
    request = json.dumps({"id": 0, "method": command, "params": list(args)}).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(request)
            reply = _read_reply(sock, time.monotonic() + timeout)
    except (OSError, ValueError) as err:
        raise UnixctlError(f"control socket {path} did not answer {command}: {err}") from None
    if reply.get("error") is not None:
        raise UnixctlError(f"{command} failed on {path}: {str(reply['error']).strip()}")
    return str(reply.get("result") or "")


def _read_reply(sock: socket.socket, deadline: float) -> dict:
    """Read until one whole JSON object has arrived (the daemon does not close the socket),
    within ``deadline`` (a time.monotonic() value) and MAX_REPLY bytes."""
    decoder = json.JSONDecoder()
    buffer = b""
    while len(buffer) < MAX_REPLY:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ValueError("no complete reply in time")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ValueError("connection closed before a complete reply")
        buffer += chunk
        try:
            reply, _ = decoder.raw_decode(buffer.decode())
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(reply, dict):
            return reply
        raise ValueError("reply is not a JSON-RPC object")
    raise ValueError("reply too long")
