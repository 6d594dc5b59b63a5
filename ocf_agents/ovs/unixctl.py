"""The control socket of an OVS daemon (``ovs-appctl -t SOCKET COMMAND``), spoken directly.

A unixctl socket takes one JSON-RPC request per command and answers with a result or an
error, both text. Speaking it from Python costs one socket round trip (about 0.1 ms) where
``ovs-appctl`` costs a process start (about 5 ms), and needs neither that program nor the
``ovs`` Python library: the monitor of an agent called every few seconds reads two of these
sockets, so the difference is most of its run time (docs/ovndb-monitor-states.md has the
measurements). The protocol itself is in :mod:`.jsonrpc`.
"""

from __future__ import annotations

from . import jsonrpc

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Sequence

MAX_REPLY = 1 << 20  # bytes; the replies this package reads are a few lines


class UnixctlError(Exception):
    """The daemon did not answer (no socket, refused, timed out) or answered with an error."""


def call(path: str, command: str, args: Sequence[str] = (), timeout: float = 5.0) -> str:
    """Run one control command on the daemon listening at ``path`` and return its text.

    Raises :class:`UnixctlError` naming the socket when the daemon cannot be reached within
    ``timeout`` seconds, closes the connection, or reports an error for the command.
    """
    try:
        reply = jsonrpc.call(path, command, list(args), 0, timeout, MAX_REPLY)
    except (OSError, ValueError) as err:
        raise UnixctlError(f"control socket {path} did not answer {command}: {err}") from None
    if reply.get("error") is not None:
        raise UnixctlError(f"{command} failed on {path}: {str(reply['error']).strip()}")
    return str(reply.get("result") or "")
