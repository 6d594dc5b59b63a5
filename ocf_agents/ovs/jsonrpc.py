"""JSON-RPC over a unix socket, as OVS daemons speak it: one request, its reply.

Both kinds of socket the agents talk to use it: a daemon's control socket (``ovs-appctl``'s
protocol, :mod:`.unixctl`) and a database socket (OVSDB's ``transact``, :mod:`.ovsdb`).

Why this module does not import ``json`` (nor ``socket``): an agent is a new process for
every action, and its recurring monitor, which runs every few seconds on every node, reads
two control sockets. Importing ``json`` costs 12-15 ms of that call (it pulls ``re`` and
``enum`` and compiles regular expressions), ``socket`` 4-5 ms (``enum``, ``selectors``),
while the round trips themselves take a fraction of a millisecond. So the encoder and the
decoder here are the C accelerators that ``json`` itself runs (``_json``), with the options
of ``json.dumps``/``json.loads``, and the socket is the C module ``_socket``. Anything
unusual goes to ``json``, imported only then: a reply not complete yet after a read, text
that is not JSON, an interpreter without ``_json``.
"""

from __future__ import annotations

import time

import _socket

try:
    import _json
except ImportError:  # pragma: no cover - CPython has it; json then does everything
    _json = None

MAX_REPLY = 16 << 20  # bytes: the default bound of one exchange


def _not_serializable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class _LoadOptions:
    """What the C scanner reads from a decoder: the options of ``json.loads``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity


if _json is not None:
    # markers=None: no cycle check (requests are built from literals), compact separators.
    _encode = _json.make_encoder(None, _not_serializable, _json.encode_basestring_ascii, None, ":", ",",
                                 False, False, True)
    _scan = _json.make_scanner(_LoadOptions())


def dumps(value: object) -> str:
    """Compact JSON text of ``value``: ``json.dumps(value, separators=(",", ":"))``."""
    if _json is None:  # pragma: no cover
        import json

        return json.dumps(value, separators=(",", ":"))
    return "".join(_encode(value, 0))


def decode_prefix(text: str) -> tuple[object, int]:
    """The JSON value ``text`` starts with, and the index where it ends.

    Raises ValueError when ``text`` does not start with a whole JSON value (yet). The C
    scanner reports such errors with ``json``'s exception class, which it can only do once
    ``json`` is loaded, so any failure of it is handed to ``json`` for the verdict.
    """
    if _json is not None:
        try:
            return _scan(text, 0)
        except Exception:  # noqa: BLE001 - incomplete or malformed: json says which, below
            pass
    import json

    return json.JSONDecoder().raw_decode(text)


def call(path: str, method: str, params: list, request_id: int, timeout: float,
         max_bytes: int = MAX_REPLY) -> dict:
    """Send one request to the server listening at unix socket ``path`` and return its reply
    (the JSON-RPC object carrying ``request_id``), answering the server's echo requests while
    waiting, as OVSDB servers send them.

    Raises OSError when the socket cannot be reached, written or read, and ValueError when the
    server closes the connection, sends something that is not a JSON-RPC object, or no whole
    reply arrives within ``timeout`` seconds and ``max_bytes`` bytes.
    """
    deadline = time.monotonic() + timeout
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(dumps({"id": request_id, "method": method, "params": params}).encode())
        return _read_reply(sock, request_id, deadline, max_bytes)
    finally:
        sock.close()


def _read_reply(sock: _socket.socket, request_id: int, deadline: float, max_bytes: int) -> dict:
    """Read messages until the reply to ``request_id``; the daemon does not close the socket."""
    buffer = b""
    received = 0
    while received < max_bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ValueError("no complete reply in time")
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ValueError("connection closed before a complete reply")
        received += len(chunk)
        buffer += chunk
        while buffer.strip():
            try:
                text = buffer.decode().lstrip()
                message, end = decode_prefix(text)
            except ValueError:  # a character or a value cut in two: wait for the rest
                break
            buffer = text[end:].encode()
            if not isinstance(message, dict):
                raise ValueError("reply is not a JSON-RPC object")
            if message.get("method") == "echo":
                sock.sendall(dumps({"id": message.get("id"), "result": message.get("params")}).encode())
            elif message.get("id") == request_id:
                return message
    raise ValueError("reply too long")
