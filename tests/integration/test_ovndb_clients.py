"""Long-lived clients through our agent's switchover, in the faults issue 15 names: the drill's
IDL client (ocf_agents/lab/idl_client.py, on Debian's python3-openvswitch) against real
ovsdb-servers run by the real agent (ovndb_harness.py), without Pacemaker.

A client's session is to one server's address. The VIP decides which server that is; here the
client connects to a node's own address, which is what the VIP gives it in each case:

- a VIP started on the node to be promoted before its promote finished (an order constraint
  missing or reversed), or a client reconnecting to the VIP's new holder while the promote
  runs: a session to a backup that the promote then turns active under it;
- a client that never reconnects by itself, on the old promoted node through a switchover.

What the client sees is asserted, so that docs/guide.md can say it; and in every case no
acknowledged write is lost.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

import pytest
from ovndb_harness import NB_PORT, Lab, Node, wait_for
from test_ovndb_agent import lab2, promoted_pair  # noqa: F401

from ocf_agents.lab.idl_writer import LongLivedWriter, why_unavailable

QUIET_S = 3.0  # long enough for a client that would reconnect to have done so (back-off 1 s)
READ_ONLY = "not allowed when database server is in read only mode"  # ovsdb-server's words

Connect = Callable[..., LongLivedWriter]


@pytest.fixture
def client_on() -> Iterator[Connect]:
    """Start a long-lived client on a node's address; every client is stopped at the end."""
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    started: list[LongLivedWriter] = []

    def connect(node: Node, prefix: str, **options) -> LongLivedWriter:
        client = LongLivedWriter(prefix, remote=f"tcp:{node.addr}:{NB_PORT}",
                                 wrap=lambda argv: argv, **options)
        client.start()
        started.append(client)
        return client

    yield connect
    for client in started:
        client.stop()


def test_a_client_on_the_node_being_promoted_is_refused_then_writes_there_unaware(
        lab2: Lab, client_on: Connect) -> None:
    """Before the promote, every write is refused with the server's "read only" error and
    none is acknowledged; once the promote has made the server active, the same process
    writes there (the server closes its clients' sessions when it turns writable: the client
    reconnects by itself, after its 1 s back-off). Every acknowledged write is in the new promoted node's
    database."""
    a, b = promoted_pair(lab2)
    early = client_on(b, "early")
    wait_for("a refused write", lambda: any(not w.acked for w in early.snapshot()), limit=15)
    promote_began = time.monotonic()
    assert lab2.promote(b, [], old=a).rc == 0
    promoted = time.monotonic()
    wait_for("a write acknowledged after the promotion",
             lambda: early.first_ack_after(promoted), limit=15)

    writes = early.snapshot()
    before = [w for w in writes if w.finished < promote_began]
    assert before and not any(w.acked for w in before)
    assert all(READ_ONLY in w.outcome for w in before), {w.outcome for w in before}
    assert early.running()
    assert not early.missing(b.switches(), writes)


def test_a_client_that_never_reconnects_is_never_acknowledged_by_the_demoted_node(
        lab2: Lab, client_on: Connect) -> None:
    """A client on the old promoted node that does not reconnect by itself is never told a
    write succeeded once the node is demoted, and never left guessing: OVS 3.1's server ends
    its clients' sessions when it turns read-only (our demote changes no listening remote
    outside load-balancer mode), so the client is left without a session and writes nothing
    more (a write in flight ends "try again"); from OVS 3.3 the session goes on and every
    write is refused with the "read only" error. Every write it had acknowledged is in the new
    promoted node's database. (A client that reconnects to the old node's own address is
    refused read-only too: test_ovndb_agent.py.)"""
    a, b = promoted_pair(lab2)
    once = client_on(a, "once", reconnect=False)
    wait_for("a first acknowledged write", lambda: once.first_ack_after(0.0), limit=15)
    assert lab2.promote(b, [], old=a).rc == 0
    switched = time.monotonic()
    time.sleep(QUIET_S)

    writes = once.snapshot()
    after = [w for w in writes if w.finished >= switched]
    assert all(READ_ONLY in w.outcome or w.outcome == "try again" for w in after), \
        {w.outcome for w in after}
    assert once.running() and len(once.connections) == 1
    assert not once.missing(b.switches(), writes)
