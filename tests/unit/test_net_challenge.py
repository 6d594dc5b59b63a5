"""The SYN that makes a client of a lost server answer (ocf_agents.net.challenge): what goes
out and to whom. Sending it for real, and the reset it draws: tests/integration/
test_ovndb_client_reset.py."""

from __future__ import annotations

import struct

import pytest

from ocf_agents.net import challenge

PORTS = (6641, 6642)


@pytest.mark.parametrize("source, destination", [("10.0.0.10", "10.0.0.1"), ("fd00::10", "fd00::1")])
def test_the_syn_names_both_ports_and_its_checksum_verifies(source: str, destination: str) -> None:
    segment = challenge.syn_segment(source, 6641, destination, 40000)
    sport, dport, _, ack, offset, flags = struct.unpack("!HHIIBB", segment[:14])
    assert (sport, dport, ack, offset >> 4, flags) == (6641, 40000, 0, 5, challenge.SYN)
    # A receiver sums the pseudo-header and the segment, checksum included: all ones.
    assert challenge._checksum(challenge._pseudo_header(source, destination, len(segment)) + segment) == 0


@pytest.mark.parametrize("peer, why", [
    (("10.0.0.1", 40000, 6641), None),
    (("10.0.0.1", 40000, 6643), "local port 6643 is not one of [6641, 6642]"),
    (("10.0.0.10", 40000, 6641), "10.0.0.10 is not another host's unicast address"),
    (("224.0.0.1", 40000, 6641), "224.0.0.1 is not another host's unicast address"),
    (("255.255.255.255", 40000, 6641), "255.255.255.255 is not another host's unicast address"),
    (("0.0.0.0", 40000, 6641), "0.0.0.0 is not another host's unicast address"),
    (("10.0.0.1", 0, 6641), "port 0 is out of range"),
    (("10.0.0.1", 70000, 6641), "port 70000 is out of range"),
    (("fd00::1", 40000, 6641), "'fd00::1' is not an address of 10.0.0.10's family"),
    (("host.example", 40000, 6641), "'host.example' is not an address of 10.0.0.10's family"),
])
def test_a_syn_goes_only_to_another_hosts_session_on_the_servers_ports(peer, why) -> None:
    assert challenge.valid_peer("10.0.0.10", peer, PORTS) == why
