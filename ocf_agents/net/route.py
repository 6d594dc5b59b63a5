"""Route lookups: which address this host would send from, and whether an address is its own.

Both ask the kernel without sending anything and without spawning ``ip``: a monitor runs every
few seconds on every node. The C module ``_socket`` stands in for ``socket`` for the same
reason: ``socket.py`` pulls ``enum`` and ``selectors``.
"""

from __future__ import annotations

import _socket as socket
import struct

# rtnetlink (linux/netlink.h, linux/rtnetlink.h): a route lookup, as ``ip route get`` asks it.
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
NLM_F_REQUEST = 1
RTA_DST = 1
RTN_LOCAL = 2  # the route type of an address this host holds: delivered here, never sent
NLMSGHDR = struct.Struct("=IHHII")  # length, type, flags, sequence, port
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
RTATTR = struct.Struct("=HH")  # length, type


def address_is_local(ip: str) -> bool:
    """True when ``ip`` is one of this host's addresses: primary or secondary (as IPaddr2 adds
    a VIP), loopback (all of 127.0.0.0/8), an IPv6 one once past duplicate address detection.

    The kernel's own answer, what ``ip route get`` prints as ``local``: the type of the route
    to ``ip``. Not the source address of that route, as this once compared: for an address
    added beside another in the same IPv4 subnet the kernel answers ``local 10.99.0.10 dev lo
    src 10.99.0.2``. Not a bind() either, which ip_nonlocal_bind=1 lets succeed anywhere; nor
    /proc/net/fib_trie, which lists every route of every table to be read through.
    """
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    try:
        packed = socket.inet_pton(family, ip)
    except OSError:
        return False  # not an address (a name, a scoped fe80::1%eth0): none this host holds
    return route_type(family, packed) == RTN_LOCAL


def route_type(family: int, packed: bytes) -> int | None:
    """The type (RTN_*) of the route this host would take to the address ``packed``, or None
    without one (the kernel answers an error: unreachable)."""
    dst = RTATTR.pack(RTATTR.size + len(packed), RTA_DST) + packed
    body = RTMSG.pack(family, 8 * len(packed), 0, 0, 0, 0, 0, 0, 0) + dst
    request = NLMSGHDR.pack(NLMSGHDR.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, 1, 0) + body
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, socket.NETLINK_ROUTE)
    try:
        sock.sendto(request, (0, 0))  # to the kernel, which answers before sendto returns
        reply = sock.recv(8192)
    except OSError:
        return None
    finally:
        sock.close()
    if len(reply) < NLMSGHDR.size + RTMSG.size or NLMSGHDR.unpack_from(reply)[1] != RTM_NEWROUTE:
        return None
    return int(RTMSG.unpack_from(reply, NLMSGHDR.size)[7])


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
