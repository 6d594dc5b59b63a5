"""Frames that tell a layer-2 network where a MAC address now lives, after a port moved.

- A RARP-style announcement (EtherType 0x8035, "reverse request" with the MAC as sender and
  target and no addresses), broadcast, as hypervisors send after a live migration: every
  switch on the way learns the new location of the MAC, whatever addresses it carries.
- For each IPv4 address on the port, a gratuitous ARP request (sender and target = that
  address), broadcast, so that neighbours refresh their ARP caches.
- For each usable IPv6 address, an unsolicited neighbour advertisement (RFC 4861 7.2.6:
  override flag set, solicited flag clear) to all-nodes ff02::1, for their neighbour caches.

The frames are built here and sent from one AF_PACKET socket bound to the port, with the
standard library only: iputils ``arping -U`` covers gratuitous ARP, but nothing packaged
sends a RARP announcement or an unsolicited advertisement (ndisc6 solicits), and one code path
for the three keeps the port's own MAC as the source of every frame.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Iterable

from ocf_agents.net.names import mac_bytes

BROADCAST = b"\xff" * 6
ETH_P_ARP = 0x0806
ETH_P_RARP = 0x8035
ETH_P_IPV6 = 0x86DD
ARP_REQUEST = 1
RARP_REQUEST_REVERSE = 3
HTYPE_ETHERNET = 1
ICMPV6 = 58
ND_NEIGHBOR_ADVERT = 136
NA_FLAG_OVERRIDE = 0x20000000
ND_OPT_TARGET_LLADDR = 2
ALL_NODES = ipaddress.IPv6Address("ff02::1")
HOP_LIMIT = 255  # neighbour discovery messages must carry 255, or receivers drop them


def ethernet(dst: bytes, src: bytes, ethertype: int, payload: bytes) -> bytes:
    return dst + src + struct.pack("!H", ethertype) + payload


def _arp_body(op: int, mac: bytes, sender_ip: bytes, target_mac: bytes, target_ip: bytes) -> bytes:
    return struct.pack("!HHBBH", HTYPE_ETHERNET, 0x0800, 6, 4, op) + mac + sender_ip + target_mac + target_ip


def rarp_announcement(mac: str) -> bytes:
    own = mac_bytes(mac)
    zero_ip = bytes(4)
    return ethernet(BROADCAST, own, ETH_P_RARP, _arp_body(RARP_REQUEST_REVERSE, own, zero_ip, own, zero_ip))


def gratuitous_arp(mac: str, address: str) -> bytes:
    own = mac_bytes(mac)
    ip = ipaddress.IPv4Address(address).packed
    return ethernet(BROADCAST, own, ETH_P_ARP, _arp_body(ARP_REQUEST, own, ip, bytes(6), ip))


def _icmpv6_checksum(src: bytes, dst: bytes, message: bytes) -> int:
    """RFC 4443 2.3: one's complement sum over the IPv6 pseudo-header and the message."""
    data = src + dst + struct.pack("!I3xB", len(message), ICMPV6) + message
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def unsolicited_advertisement(mac: str, address: str) -> bytes:
    own = mac_bytes(mac)
    src = ipaddress.IPv6Address(address).packed
    dst = ALL_NODES.packed
    option = struct.pack("!BB", ND_OPT_TARGET_LLADDR, 1) + own
    unsummed = struct.pack("!BBHI", ND_NEIGHBOR_ADVERT, 0, 0, NA_FLAG_OVERRIDE) + src + option
    message = unsummed[:2] + struct.pack("!H", _icmpv6_checksum(src, dst, unsummed)) + unsummed[4:]
    header = struct.pack("!IHBB", 6 << 28, len(message), ICMPV6, HOP_LIMIT) + src + dst
    # 33:33 + the low 32 bits of the destination: the Ethernet multicast group of ff02::1
    return ethernet(b"\x33\x33" + dst[-4:], own, ETH_P_IPV6, header + message)


def announcements(mac: str, ipv4: Iterable[str] = (), ipv6: Iterable[str] = ()) -> list[bytes]:
    """Every frame announcing ``mac`` and the addresses it carries, RARP first."""
    return (
        [rarp_announcement(mac)]
        + [gratuitous_arp(mac, a) for a in ipv4]
        + [unsolicited_advertisement(mac, a) for a in ipv6]
    )


def send(ifname: str, frames: Iterable[bytes]) -> int:
    """Send ``frames`` as they are out of ``ifname``; the number sent (OSError on failure)."""
    count = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((ifname, 0))
        for frame in frames:
            sock.send(frame)
            count += 1
    return count


def device_mac(ifname: str) -> str:
    """The MAC address frames sent out of ``ifname`` carry (sysfs: no process); OSError when
    there is no such device."""
    with open(f"/sys/class/net/{ifname}/address", encoding="ascii") as f:
        return f.read().strip()
