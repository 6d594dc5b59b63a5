"""Interface names, MAC addresses, announcement frames, routing tables, the plan of a port's
source-based routing and its kernel settings (pure functions and files, no network).

The frames are also sent through a real Open vSwitch bridge and decoded by tcpdump, which
checks their checksums, in tests/integration/test_ovsport_ovs.py.
"""

from __future__ import annotations

import struct

import pytest

from ocf_agents.net import announce, policy, sysctl, tables
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


# -- routing tables, source-based routing and interface settings (ocf_agents/net/tables.py,
# policy.py, sysctl.py); against the real kernel in tests/integration/test_ovsport_ovs.py ----
@pytest.mark.parametrize("text", ["1", "100", "252", "256", "4294967295", "vipnet", "vip-net.2", "v_1"])
def test_table_numbers_in_range_and_names_are_accepted(text: str) -> None:
    tables.check_table(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [("0", "kernel's own"), ("253", "kernel's own"), ("254", "kernel's own"), ("255", "kernel's own"),
     ("4294967296", "1-4294967295"), ("-1", "neither"), ("main", "kernel's own tables"),
     ("local", "kernel's own tables"), ("0x64", "neither"), ("1vip", "neither"), ("a b", "neither"),
     ("a;b", "neither"), ("", "neither")],
)
def test_table_numbers_out_of_range_and_bad_names_are_rejected(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        tables.check_table(text)


def test_table_names_are_read_as_iproute2_reads_them(tmp_path) -> None:
    etc, usr = tmp_path / "etc", tmp_path / "usr"
    (etc / "rt_tables.d").mkdir(parents=True)
    usr.mkdir()
    (etc / "rt_tables").write_text("# comment\n255\tlocal\n254 main\n100 vipnet # the VIP\nbad line\n")
    (etc / "rt_tables.d" / "ovs.conf").write_text("0x65 hexnet\n102 vipnet\n254 fake-main\n")
    (etc / "rt_tables.d" / "ignored.txt").write_text("103 ignored\n")
    (usr / "rt_tables").write_text("104 vendor\n")
    dirs = (str(etc), str(usr))
    assert tables.table_number("100", dirs) == 100
    assert tables.table_number("vipnet", dirs) == 100, "the first definition counts"
    assert tables.table_number("hexnet", dirs) == 0x65
    assert tables.table_number("vendor", dirs) == 104
    with pytest.raises(LookupError, match="no rt_tables file defines it"):
        tables.table_number("ignored", dirs)
    with pytest.raises(ValueError, match="maps it to table 254"):
        tables.table_number("fake-main", dirs)


def test_networks_and_membership_without_the_ipaddress_module() -> None:
    assert policy.network("192.0.2.20/24") == "192.0.2.0/24"
    assert policy.network("fd0c:fb::5/64") == "fd0c:fb::/64"
    assert policy.network("10.1.2.3/0") == "0.0.0.0/0"
    assert policy.contains("192.0.2.0/24", "192.0.2.255") and not policy.contains("192.0.2.0/24", "192.0.3.1")
    assert policy.contains("10.1.2.3", "10.1.2.3") and not policy.contains("192.0.2.0/24", "fd0c::1")
    assert policy.is_link_local("fe80::1") and not policy.is_link_local("fd0c:fb::1")


def route(dst: str, dev: str, gateway: str | None = None, **kw) -> policy.Route:
    family = policy.family_of(gateway or dst.partition("/")[0])
    return policy.Route(family, dst, dev, gateway, kw.pop("metric", policy.DEFAULT_METRIC[family]), **kw)


MAIN = [
    route("192.0.2.0/24", "br-ex"),  # the bridge's own address is in the port's subnet
    route("default", "br-ex", "192.0.2.1", metric=100),
    route("198.51.100.0/24", "eth1"),
    route("10.0.0.0/8", "eth1", "198.51.100.1"),  # a gateway only eth1 reaches
    route("172.16.0.0/12", "br-ex", "192.0.2.254", kind="unreachable"),
    route("203.0.113.0/24", "br-ex", "192.0.2.1", multipath=True),
    route("fd0c:fb::/64", "br-ex"),
    route("default", "br-ex", "fe80::1"),  # a router's link-local address, on the shared subnet
    route("default", "eth1", "fe80::2", metric=2048),  # another link's router
]


def test_plan_routes_the_port_networks_and_the_gateways_it_reaches() -> None:
    rules, routes = policy.plan("vip0", ["192.0.2.20/24", "fd0c:fb::5/64"], MAIN, 100, 32765)
    assert [str(r) for r in rules] == [
        "rule from 192.0.2.20 lookup 100 priority 32765 protocol 79",
        "rule from fd0c:fb::5 lookup 100 priority 32765 protocol 79",
    ]
    assert [str(r) for r in routes] == [
        "route 192.0.2.0/24 dev vip0 metric 0",
        "route fd0c:fb::/64 dev vip0 metric 1024",
        "route default via 192.0.2.1 dev vip0 metric 100",
        "route default via fe80::1 dev vip0 metric 1024",
    ]
    assert {r.protocol for r in routes} == {policy.PROTOCOL}


def test_plan_for_a_host_address_uses_the_subnet_of_the_main_table_that_holds_it() -> None:
    _, routes = policy.plan("vip0", ["192.0.2.20/32"], MAIN, 100, 32765)
    assert [str(r) for r in routes] == ["route 192.0.2.0/24 dev vip0 metric 0",
                                        "route default via 192.0.2.1 dev vip0 metric 100"]


def test_plan_without_addresses_is_empty() -> None:
    assert policy.plan("vip0", [], MAIN, 100, 32765) == ([], [])


def test_plan_keeps_one_route_per_destination_and_metric() -> None:
    main = [route("192.0.2.0/24", "br-ex"), route("default", "br-ex", "192.0.2.1"), route("default", "br-ex", "192.0.2.2")]
    _, routes = policy.plan("vip0", ["192.0.2.20/24"], main, 100, 32765)
    assert [str(r) for r in routes] == ["route 192.0.2.0/24 dev vip0 metric 0", "route default via 192.0.2.1 dev vip0 metric 0"]


def test_sharing_names_the_other_interfaces_on_the_port_networks() -> None:
    assert policy.sharing(MAIN + [route("192.0.2.0/24", "vip0")], "vip0", ["192.0.2.0/24"]) == [("br-ex", "192.0.2.0/24")]


def test_settings_are_written_when_they_differ_and_skipped_without_ipv6(tmp_path) -> None:
    conf = tmp_path / "ipv4" / "conf"
    for name, value in (("vip0", "0"), ("all", "0")):
        (conf / name).mkdir(parents=True)
        (conf / name / "arp_ignore").write_text(value + "\n")
        (conf / name / "arp_filter").write_text("0\n")
    wanted = [sysctl.Setting("ipv4", "arp_ignore", 1), sysctl.Setting("ipv6", "accept_ra", 0)]
    assert sysctl.enforce("vip0", wanted, str(tmp_path)) == ["net.ipv4.conf.vip0.arp_ignore: 0 -> 1"]
    assert (conf / "vip0" / "arp_ignore").read_text() == "1\n"
    assert sysctl.enforce("vip0", wanted, str(tmp_path)) == []
    assert sysctl.Setting("ipv4", "arp_ignore", 1).name("br.100") == "net.ipv4.conf.br/100.arp_ignore"
    with pytest.raises(OSError):
        sysctl.enforce("gone0", wanted, str(tmp_path))


def test_an_interface_answers_arp_for_any_address_only_without_filter_or_ignore(tmp_path) -> None:
    conf = tmp_path / "ipv4" / "conf"
    for name in ("eth0", "all"):
        (conf / name).mkdir(parents=True)
        for key in ("arp_filter", "arp_ignore"):
            (conf / name / key).write_text("0\n")
    assert sysctl.answers_for_any_address("eth0", str(tmp_path))
    (conf / "all" / "arp_filter").write_text("1\n")
    assert not sysctl.answers_for_any_address("eth0", str(tmp_path))


def test_a_mac_address_must_have_six_bytes() -> None:
    from ocf_agents.net.names import mac_bytes

    assert mac_bytes("02:00:00:00:00:01") == bytes([2, 0, 0, 0, 0, 1])
    for bad in ("", "02:00:00:00:00", "02:00:00:00:00:01:02"):
        with pytest.raises(ValueError, match="six bytes"):
            mac_bytes(bad)
