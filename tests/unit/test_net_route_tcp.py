"""Linux networking the ovndb-servers monitor reads without sending anything or spawning a
program: route lookups (ocf_agents.net.route) and the kernel's TCP tables (ocf_agents.net.tcp).

Finding a connection in the tables with real sockets is in tests/unit/test_ovsdb_connections.py.
"""

from __future__ import annotations

import socket

from ocf_agents.net import route, tcp


def test_proc_net_tcp_addresses_are_decoded():
    assert tcp.decode_address("010A007F:19F9") == ("127.0.10.1", 6649)
    assert tcp.decode_address("00000000000000000000000001000000:19F9") == ("::1", 6649)
    assert tcp.decode_address("0000000000000000FFFF0000010A007F:0050") == ("127.0.10.1", 80)


def test_local_addresses_are_told_from_remote_ones_without_sending_anything():
    """The whole of 127.0.0.0/8 is this host's, though it sends to 127.0.10.9 from 127.0.0.1.
    A secondary address beside the primary one needs a namespace: tests/integration/test_net_route.py."""
    assert route.address_is_local("127.0.10.9") and route.address_is_local("::1")
    assert route.source_address("127.0.10.9") == "127.0.0.1"
    assert not route.address_is_local("198.51.100.77")  # TEST-NET-2: routed, never local
    assert not route.address_is_local("2001:db8::77")  # the documentation prefix: never local


def test_what_is_no_address_is_not_this_hosts():
    """A name, or a scoped link-local address: nothing the kernel can look up, so not local."""
    assert not route.address_is_local("node1") and not route.address_is_local("fe80::1%lo")
    assert not route.address_is_local("")


def test_the_source_address_towards_an_address_of_this_host_is_that_address():
    assert route.source_address("127.0.0.1") == "127.0.0.1"
    assert route.source_address("::1") == "::1"


def test_a_servers_clients_are_read_from_the_table_with_the_local_port_they_reach():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    try:
        port = server.getsockname()[1]
        assert tcp.peers_of("127.0.0.1", [port]) == {(*client.getsockname(), port)}
        assert tcp.peers_of("127.0.0.1", [port + 1 if port < 65535 else port - 1]) == set()
    finally:
        for sock in (accepted, client, server):
            sock.close()
