"""Finding a backup's replication connection in the kernel's socket tables, with real sockets:
ocf_agents.net.tcp reads the tables, ocf_agents.ovs.ovsdb gives it the backups' sync-from
targets.

The connections are this test process's own, on loopback (127.0.19.250, inside the range of
the ovndb-servers tests); against real ovsdb-servers the same code runs in every monitor of
tests/integration/test_ovndb_agent.py.
"""

from __future__ import annotations

import os
import socket

import pytest

from ocf_agents.net import tcp
from ocf_agents.ovs import ovsdb

ADDRESS = "127.0.19.250"


@pytest.fixture
def connections():
    """Two established connections of this process, to two listening ports: {port: the
    accepted (server) end of the connection to it}, in the order they were made."""
    sockets = []
    try:
        ports = {}
        for _ in range(2):
            listener = socket.create_server((ADDRESS, 0))
            client = socket.create_connection(listener.getsockname(), timeout=5)
            server, _ = listener.accept()
            sockets += [listener, client, server]
            ports[listener.getsockname()[1]] = server
        yield ports
    finally:
        for sock in sockets:
            sock.close()


def test_each_backup_gets_its_own_connection(connections) -> None:
    nb, sb = connections
    pid = os.getpid()
    found = ovsdb.replication_connections([(pid, f"tcp:{ADDRESS}:{nb}"), (pid, f"tcp:{ADDRESS}:{sb}")])
    assert [conn.peer for conn in found] == [(ADDRESS, nb), (ADDRESS, sb)]


def test_no_connection_to_the_target_or_no_target_is_none(connections) -> None:
    nb, _ = connections
    pid = os.getpid()
    unused = f"tcp:{ADDRESS}:9"  # the listeners got ports above 1023
    found = ovsdb.replication_connections([(pid, unused), (pid, None), (pid, f"tcp:{ADDRESS}:{nb}")])
    assert found[:2] == [None, None] and found[2] is not None


def test_a_connection_of_another_process_is_not_this_ones(connections) -> None:
    nb, _ = connections
    assert ovsdb.replication_connections([(os.getppid(), f"tcp:{ADDRESS}:{nb}")]) == [None]


def test_the_tcp_table_gives_each_connection_and_what_the_process_has_not_read(connections) -> None:
    nb, sb = connections
    connections[sb].sendall(b"x" * 100)  # the client end does not read it
    pid = os.getpid()
    found = tcp.connections_to([(pid, (ADDRESS, sb)), (pid, None), (pid, (ADDRESS, nb))])
    assert [conn and conn.peer for conn in found] == [(ADDRESS, sb), None, (ADDRESS, nb)]
    assert (found[0].tx_queue, found[0].rx_queue) == (0, 100)
