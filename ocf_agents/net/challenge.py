"""Ending a peer's TCP session with a host that is gone, from the host that took its address.

A client whose server crashed keeps its session: it learns that the server is gone only when
one of its retransmissions (exponential back-off: about 0.2, 0.6, 1.4, 3.0, 6.2, 12.6 s after
its last send) reaches the address's new holder, which has no such connection and answers with
a reset. Nothing makes the client send sooner, except a segment it must answer: a SYN for an
established connection, whatever its sequence number, gets a "challenge ACK" (RFC 5961 4.2:
Linux, and every stack that follows it). That ACK goes to the address, which the new holder
now has; its kernel answers it with a reset carrying the ACK's acknowledgement number as
sequence number, exactly the client's next expected byte, which the client accepts at once.

:func:`send_syns` sends such SYNs from the address and port the client's session names (a raw
socket: root only), built here because no program of a base system sends one segment with a
chosen source port. A SYN that reaches no session is answered by a reset, or nothing at all,
and changes nothing; one that reaches a session the sender holds itself is answered by an ACK
it ignores. So a stale peer list is harmless.
"""

from __future__ import annotations

import os
import struct

import _socket as socket  # the C module: socket.py pulls enum and selectors

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Iterable

SYN = 0x02
WINDOW = 64240  # what Linux offers in a SYN: a peer logging the segment sees nothing odd
MAX_PORT = 65535


def valid_peer(ip: str, peer: tuple[str, int, int], ports: Iterable[int]) -> str | None:
    """Why the session ``peer`` (peer ip, peer port, local port) is not one a SYN from ``ip``
    may go to, or None when it is: a unicast address of ``ip``'s family, other than ``ip``, a
    port in range, and a local port among ``ports`` (the servers' own)."""
    address, port, local_port = peer
    family = _family(ip)
    try:
        packed = socket.inet_pton(family, address)
    except OSError:
        return f"{address!r} is not an address of {ip}'s family"
    if address == ip or not any(packed) or _multicast_or_broadcast(packed):
        return f"{address} is not another host's unicast address"
    if not 0 < port <= MAX_PORT:
        return f"port {port} is out of range"
    if local_port not in ports:
        return f"local port {local_port} is not one of {sorted(ports)}"
    return None


def send_syns(ip: str, peers: Iterable[tuple[str, int, int]]) -> None:
    """Send one SYN from ``ip`` to each peer (peer ip, peer port, local port), from its local
    port. ``ip`` must be local (the raw socket is bound to it); raises OSError when it is
    not, or without the privilege to open a raw socket."""
    family = _family(ip)
    sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_TCP)
    try:
        sock.bind((ip, 0))
        for address, port, local_port in peers:
            sock.sendto(syn_segment(ip, local_port, address, port), (address, 0))
    finally:
        sock.close()


def syn_segment(source: str, source_port: int, destination: str, destination_port: int) -> bytes:
    """A TCP header with SYN set, a random sequence number and its checksum (no options,
    so no timestamp a peer's PAWS check could refuse)."""
    seq = int.from_bytes(os.urandom(4), "big")
    header = struct.pack("!HHIIBBHHH", source_port, destination_port, seq, 0, 5 << 4, SYN, WINDOW, 0, 0)
    checksum = _checksum(_pseudo_header(source, destination, len(header)) + header)
    return header[:16] + struct.pack("!H", checksum) + header[18:]


def _pseudo_header(source: str, destination: str, length: int) -> bytes:
    """What the TCP checksum covers besides the segment (RFC 793, RFC 8200 8.1)."""
    family = _family(source)
    addresses = socket.inet_pton(family, source) + socket.inet_pton(family, destination)
    if family == socket.AF_INET:
        return addresses + struct.pack("!BBH", 0, socket.IPPROTO_TCP, length)
    return addresses + struct.pack("!IxxxB", length, socket.IPPROTO_TCP)


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data`` (of even length here)."""
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _family(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def _multicast_or_broadcast(packed: bytes) -> bool:
    if len(packed) == 4:
        return packed[0] >= 224  # 224/4 multicast, 240/4 reserved, 255.255.255.255
    return packed[0] == 0xFF
