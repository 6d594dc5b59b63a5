"""Linux networking the ovndb-servers monitor reads without sending anything or spawning a
program: route lookups (ocf_agents.net.route) and the kernel's TCP tables (ocf_agents.net.tcp).

Finding a connection in the tables with real sockets is in tests/unit/test_ovsdb_connections.py.
"""

from __future__ import annotations

from ocf_agents.net import route, tcp


def test_proc_net_tcp_addresses_are_decoded():
    assert tcp.decode_address("010A007F:19F9") == ("127.0.10.1", 6649)
    assert tcp.decode_address("00000000000000000000000001000000:19F9") == ("::1", 6649)
    assert tcp.decode_address("0000000000000000FFFF0000010A007F:0050") == ("127.0.10.1", 80)


def test_local_addresses_are_told_from_remote_ones_without_sending_anything():
    assert route.address_is_local("127.0.10.9") and route.address_is_local("::1")
    assert not route.address_is_local("198.51.100.77")  # TEST-NET-2: routed, never local


def test_the_source_address_towards_an_address_of_this_host_is_that_address():
    assert route.source_address("127.0.0.1") == "127.0.0.1"
    assert route.source_address("::1") == "::1"
