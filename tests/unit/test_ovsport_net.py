"""Interface names, MAC addresses and announcement frames (pure functions, no network).

The frames are also sent through a real Open vSwitch bridge and decoded by tcpdump, which
checks their checksums, in tests/integration/test_ovsport_ovs.py.
"""

from __future__ import annotations

import struct

import pytest

from ocf_agents.net import announce
from ocf_agents.net.names import check_ifname, derived_mac, normalize_mac

MAC = "02:00:5e:10:00:01"
OWN = bytes.fromhex("02005e100001")


@pytest.mark.parametrize("name", ["eth0", "vip-port", "br.100", "a_b", "x" * 15])
def test_portable_interface_names_are_accepted(name: str) -> None:
    check_ifname(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("x" * 16, "16 bytes"),
        ("é" * 8, "16 bytes"),
        ("a/b", "letters"),
        ("a b", "letters"),
        ("a;b", "letters"),
        ("$(x)", "letters"),
        ("-up", "start with"),
        (".", "start with"),
    ],
)
def test_unsafe_interface_names_are_rejected_with_the_reason(name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_ifname(name)


def test_mac_addresses_are_normalized() -> None:
    assert normalize_mac(" 02-00-5E-10-00-01 ") == MAC


@pytest.mark.parametrize(
    ("mac", "why"),
    [
        ("02:00:5e:10:00", "not a MAC"),
        ("02:00:5e:10:00:0g", "not a MAC"),
        ("0200.5e10.0001", "not a MAC"),
        ("01:00:5e:00:00:01", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "multicast"),
        ("00:00:00:00:00:00", "all zeros"),
    ],
)
def test_bad_mac_addresses_are_rejected_with_the_reason(mac: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        normalize_mac(mac)


def test_derived_mac_is_stable_locally_administered_unicast() -> None:
    mac = derived_mac("vip-port", "vip0")
    assert mac == derived_mac("vip-port", "vip0") == normalize_mac(mac)
    first = int(mac[:2], 16)
    assert first & 0x02 and not first & 0x01
    assert mac != derived_mac("vip-port", "vip1") and mac != derived_mac("other", "vip0")
    # the names are joined unambiguously: ("ab", "c") is not ("a", "bc")
    assert derived_mac("ab", "c") != derived_mac("a", "bc")


def test_rarp_announcement_is_a_broadcast_reverse_request_for_the_mac() -> None:
    frame = announce.rarp_announcement(MAC)
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == OWN
    assert struct.unpack("!H", frame[12:14])[0] == 0x8035
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
    assert (htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 3)
    assert frame[22:28] == OWN and frame[32:38] == OWN


def test_gratuitous_arp_names_the_address_as_sender_and_target() -> None:
    frame = announce.gratuitous_arp(MAC, "198.51.100.10")
    ip = bytes([198, 51, 100, 10])
    assert frame[:6] == b"\xff" * 6 and struct.unpack("!H", frame[12:14])[0] == 0x0806
    assert struct.unpack("!H", frame[20:22])[0] == 1  # request
    assert frame[22:28] == OWN and frame[28:32] == ip and frame[38:42] == ip


def test_unsolicited_advertisement_is_a_valid_override_na_to_all_nodes() -> None:
    frame = announce.unsolicited_advertisement(MAC, "fd0c:fa::10")
    assert frame[:6] == bytes.fromhex("333300000001") and struct.unpack("!H", frame[12:14])[0] == 0x86DD
    ip6 = frame[14:54]
    payload_len, next_header, hop_limit = struct.unpack("!HBB", ip6[4:8])
    src, dst, message = ip6[8:24], ip6[24:40], frame[54:]
    assert (next_header, hop_limit, payload_len) == (58, 255, len(message))
    assert message[0] == 136 and message[4] & 0x20 and not message[4] & 0xC0  # override only
    assert message[8:24] == src and message[24:26] == b"\x02\x01" and message[26:32] == OWN
    # Summing the pseudo-header and the message, checksum included, gives 0xffff.
    data = src + dst + struct.pack("!I3xB", len(message), 58) + message
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF


def test_announcements_start_with_rarp_then_one_frame_per_address() -> None:
    frames = announce.announcements(MAC, ["198.51.100.10", "198.51.100.11"], ["fd0c:fa::10"])
    ethertypes = [struct.unpack("!H", f[12:14])[0] for f in frames]
    assert ethertypes == [0x8035, 0x0806, 0x0806, 0x86DD]
