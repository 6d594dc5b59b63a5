"""Interface names and MAC addresses: what Linux and Open vSwitch accept, and what is safe.

An interface name ends up in argv lists (``ip``, ``ifup``, ``ovs-vsctl``), in file names under
/run and in the OVS database. The kernel accepts almost anything up to 15 bytes; the agents
accept the portable subset, so that a name never reads as an option or needs quoting anywhere.
"""

from __future__ import annotations

import re

IFNAMSIZ = 16  # the kernel's buffer, NUL included: names have at most 15 bytes
IFNAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
MAC_PATTERN = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
MULTICAST_BIT = 0x01  # in the first octet: a group address, never a port's own
LOCAL_BIT = 0x02  # in the first octet: locally administered, outside every vendor's range


def check_ifname(name: str) -> None:
    """Raise ValueError saying why ``name`` cannot be an interface (or bridge) name."""
    size = len(name.encode())
    if size == 0:
        raise ValueError("it is empty")
    if size >= IFNAMSIZ:
        raise ValueError(f"it has {size} bytes; interface names have at most {IFNAMSIZ - 1}")
    if name in (".", "..") or not IFNAME_PATTERN.fullmatch(name):
        raise ValueError(
            "interface names here use only letters, digits, '_', '.' and '-', "
            "and do not start with '.' or '-'"
        )


def normalize_mac(text: str) -> str:
    """``text`` as a lower-case colon-separated unicast MAC; ValueError saying why not."""
    mac = text.strip().lower().replace("-", ":")
    if not MAC_PATTERN.fullmatch(mac):
        raise ValueError("it is not a MAC address (six hexadecimal octets, as 02:00:5e:10:00:01)")
    octets = bytes.fromhex(mac.replace(":", ""))
    if octets[0] & MULTICAST_BIT:
        raise ValueError("it is a multicast or broadcast address, not a port's own address")
    if not any(octets):
        raise ValueError("it is all zeros")
    return mac


def check_mac(text: str) -> None:
    """Parameter validator form of :func:`normalize_mac`."""
    normalize_mac(text)


def mac_bytes(mac: str) -> bytes:
    """The six bytes of a MAC address; ValueError for anything else (a frame built with
    fewer would be dropped on the wire without a word)."""
    packed = bytes.fromhex(mac.replace(":", ""))
    if len(packed) != 6:
        raise ValueError(f"{mac!r} is not a MAC address of six bytes")
    return packed


def derived_mac(*names: str) -> str:
    """A locally administered unicast MAC that depends only on ``names``.

    Every node computes the same address from the same names, so a port that moves between
    hosts keeps its MAC, and no neighbour or switch has to relearn it (a random address would
    change on every fail-over). SHA-256 of the names joined by NUL bytes (which no name can
    contain), first six bytes, with the multicast bit cleared and the local bit set.
    """
    import hashlib  # here: loading OpenSSL costs 4-6 ms, which every action checking a name paid

    digest = hashlib.sha256("\0".join(names).encode()).digest()[:6]
    first = (digest[0] & ~MULTICAST_BIT & 0xFF) | LOCAL_BIT
    return ":".join(f"{b:02x}" for b in bytes([first]) + digest[1:])
