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


IFA_F_TENTATIVE = 0x40  # an IPv6 address still in duplicate address detection: not usable yet


def address_is_assigned(ip: str) -> bool:
    """True when ``ip`` is one of this host's addresses, primary or secondary (an IPv6 one
    past duplicate address detection), as the kernel lists them in /proc.

    Not :func:`address_is_local`'s route lookup: for an address added beside another in the
    same subnet, as IPaddr2 adds a VIP, the kernel picks the first address as the source and
    the lookup cannot tell the two apart.
    """
    if ":" in ip:
        wanted = socket.inet_pton(socket.AF_INET6, ip).hex()
        return any(cols[0] == wanted and not int(cols[4], 16) & IFA_F_TENTATIVE
                   for cols in _table_rows("/proc/net/if_inet6") if len(cols) >= 5)
    rows = _table_rows("/proc/net/fib_trie")
    return any(cols[-1] == ip and rows[i + 1][-2:] == ["host", "LOCAL"]
               for i, cols in enumerate(rows[:-1]) if cols[:1] == ["|--"])


def _table_rows(path: str) -> list[list[str]]:
    try:
        with open(path, encoding="ascii") as f:
            return [line.split() for line in f]
    except OSError:
        return []
