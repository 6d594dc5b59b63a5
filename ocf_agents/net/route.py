"""Route lookups: which address this host would send from, and whether an address is its own.

Both ask the kernel without sending anything and without spawning ``ip``: a monitor runs every
few seconds on every node. The C module ``_socket`` stands in for ``socket`` for the same
reason: ``socket.py`` pulls ``enum`` and ``selectors``.
"""

from __future__ import annotations

import _socket as socket


def address_is_local(ip: str) -> bool:
    """True when ``ip`` reaches this host: a loopback address, or one the kernel routes as
    local (asked without sending anything, so that ip_nonlocal_bind cannot fool it)."""
    if ip == "::1" or ip.startswith("127."):
        return True
    return source_address(ip) == ip  # a local address answers for itself


def source_address(ip: str) -> str | None:
    """The address this host would send from to reach ``ip``, or None without a route.

    A UDP socket's connect() is only a route lookup: nothing is sent.
    """
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)  # _socket's sockets are no context managers
    try:
        sock.connect((ip, 9))
        return str(sock.getsockname()[0])
    except OSError:
        return None
    finally:
        sock.close()
