"""reset_clients against real TCP stacks: a long-lived client whose server crashed is reset at
once by the VIP's new holder, and the promoted node publishes the sessions that needs.

The crash: namespaces we create (nothing leaves them) on one layer-2 segment: the client, the
old holder of the VIP running a real ovsdb-server, and the new holder. The drill's IDL client
(ocf_agents/lab/idl_client.py) holds a session to the VIP; the old holder's link is cut and its
server killed, the VIP is added to the new holder (not announced: the action does it), and the
agent's own ``reset-clients`` action runs there, on what the CIB file says the old node
published, while a server starts there on the VIP (the promote). The client's kernel would find
out by itself when a retransmission reached the new holder; the new holder drops the old
session's data-bearing segments, so only the reset the action provokes can end it (and the
IDL's probe is off): without it, this test fails.
"""

from __future__ import annotations

import contextlib
import time
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from ovndb_harness import AGENT, NB_PORT, RESOURCE, Lab, Node, have_ovn, make_cib, wait_for
from ovs_netns import Namespace, stop_process

from ocf_agents.lab.idl_writer import LongLivedWriter, why_unavailable

NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"
VIP = "10.251.0.100"
CLIENT_IP, OLD_IP, NEW_IP = "10.251.0.1", "10.251.0.2", "10.251.0.3"
PREFIX = 24
LINK = "eth0"  # each host's end of its veth; the other end is on the hub's bridge
ATTRIBUTE = f"{RESOURCE}-clients"
# The new holder drops the old session's segments longer than an ACK with timestamps (20 + 32
# bytes): the client's retransmitted writes, which would end the session the slow way.
DATA_LENGTH = 64


class Segment:
    """A hub namespace with a bridge, and a host namespace per name, one veth each."""

    def __init__(self, undo: contextlib.ExitStack) -> None:
        self.undo = undo
        self.hub = self._namespace()
        self.hub.run(["ip", "link", "add", "br0", "type", "bridge"])
        self.hub.run(["ip", "link", "set", "br0", "up"])

    def _namespace(self) -> Namespace:
        ns = Namespace.create("ocfa-reset-")
        self.undo.callback(ns.delete)
        return ns

    def host(self, port: str, address: str) -> Namespace:
        ns = self._namespace()
        self.hub.run(["ip", "link", "add", port, "type", "veth", "peer", "name", LINK, "netns", ns.name])
        self.hub.run(["ip", "link", "set", port, "master", "br0", "up"])
        ns.run(["ip", "addr", "add", f"{address}/{PREFIX}", "dev", LINK])
        ns.run(["ip", "link", "set", LINK, "up"])
        return ns

    def cut(self, port: str) -> None:
        """The host behind ``port`` is gone: its link, and so its namespace's end, removed."""
        self.hub.run(["ip", "link", "del", port])


def established(ns: Namespace | None, peer: str, port: int) -> list[tuple[str, int]]:
    """(local address, local port) of the established sessions to ``peer:port`` in ``ns``
    (None: the test's own namespace), as ss sees them."""
    argv = ["ss", "-Htn", "state", "established", "dst", f"{peer}:{port}"]
    out = (ns.run(argv) if ns else subprocess.run(argv, capture_output=True, text=True, check=True)).stdout
    local = [line.split()[2] for line in out.splitlines() if line.split()]
    return [(addr, int(p)) for addr, _, p in (word.rpartition(":") for word in local)]


@pytest.fixture
def crash() -> Iterator[dict]:
    """A client writing through a session to the VIP on the old holder's real ovsdb-server."""
    if os.geteuid() != 0 or not shutil.which("ovsdb-server") or not os.path.exists(NB_SCHEMA):
        pytest.skip("needs root, ovsdb-server and OVN's northbound schema")
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    with contextlib.ExitStack() as undo:
        tmp = Path(tempfile.mkdtemp(prefix="ocfa-reset-"))
        undo.callback(shutil.rmtree, tmp, ignore_errors=True)
        segment = Segment(undo)
        client = segment.host("to-client", CLIENT_IP)
        old = segment.host("to-old", OLD_IP)
        new = segment.host("to-new", NEW_IP)
        old.run(["ip", "addr", "add", f"{VIP}/{PREFIX}", "dev", LINK])
        server = serve(old, tmp / "old", undo)
        writer = LongLivedWriter("held", remote=f"tcp:{VIP}:{NB_PORT}", wrap=client.exec, probe_ms=0)
        writer.start()
        undo.callback(writer.stop)
        wait_for("an acknowledged write", lambda: writer.first_ack_after(0.0), limit=15)
        yield {"segment": segment, "client": client, "new": new, "server": server, "writer": writer,
               "tmp": tmp, "undo": undo}


def serve(ns: Namespace, directory: Path, undo: contextlib.ExitStack) -> subprocess.Popen:
    """A northbound ovsdb-server of its own in ``ns``, listening on the VIP."""
    directory.mkdir()
    subprocess.run(["ovsdb-tool", "create", str(directory / "nb.db"), NB_SCHEMA], check=True)
    server = subprocess.Popen(ns.exec([
        "ovsdb-server", str(directory / "nb.db"), f"--remote=ptcp:{NB_PORT}:{VIP}",
        f"--unixctl={directory / 'nb.ctl'}", f"--log-file={directory / 'nb.log'}", "-vconsole:off"]))
    undo.callback(stop_process, server)
    return server


def take_over(new: Namespace, client_port: int) -> None:
    """The new holder adds the VIP and drops the old session's data-bearing segments (see the
    module's docstring). It does not announce the VIP: IPaddr2's announcement may come after
    reset-clients has begun, which announces it itself."""
    new.run(["ip", "addr", "add", f"{VIP}/{PREFIX}", "dev", LINK])
    new.run(["nft", "-f", "-"], input=(
        "table inet ocfa_reset {\n chain input {\n  type filter hook input priority 0;\n"
        f"  tcp sport {client_port} tcp dport {NB_PORT} ip length > {DATA_LENGTH} drop\n }}\n}}\n"))


def reset_clients(node: Node, new: Namespace, **params: str) -> subprocess.CompletedProcess:
    """The agent's reset-clients action, run in the new holder's namespace as promote starts it."""
    env = node.env(master_ip=VIP, listen_on_master_ip_only="yes", **params)
    return new.run([str(AGENT), "reset-clients"], check=False, env=env, timeout=60)


def test_a_client_of_a_crashed_node_is_reset_by_the_vips_new_holder(crash: dict) -> None:
    """The old node published the client's session (its permanent attribute); once the VIP
    is on the new holder, reset-clients there ends the session: the client holds no session
    to it any more, writes again through the new holder's server, and the attribute, used,
    is gone. A published session that is not a client of the VIP's ports is left alone."""
    segment, client, new, writer = crash["segment"], crash["client"], crash["new"], crash["writer"]
    ((address, port),) = established(client, VIP, NB_PORT)
    cib = crash["tmp"] / "cib.xml"
    make_cib(cib, ["old", "new"])
    subprocess.run(["crm_attribute", "-N", "old", "-n", ATTRIBUTE, "-l", "forever", "-v",
                    f"{address},{port},{NB_PORT} 192.0.2.1,1,{NB_PORT + 100}"],
                   env=dict(os.environ, CIB_file=str(cib)), check=True)
    segment.cut("to-old")
    crash["server"].kill()
    crashed = time.monotonic()
    take_over(new, port)
    serve(new, crash["tmp"] / "new", crash["undo"])
    node = Node("new", NEW_IP, crash["tmp"] / "agent", cib)
    node.root.mkdir()
    done = reset_clients(node, new)
    assert done.returncode == 0, (node.root / "agent.log").read_text()

    wait_for("the old session reset", lambda: (address, port) not in established(client, VIP, NB_PORT), limit=10)
    wait_for("a write acknowledged through the new holder", lambda: writer.first_ack_after(crashed), limit=15)
    log = (node.root / "agent.log").read_text()
    assert f"announced master_ip {VIP} on {LINK}" in log
    assert f"not resetting published session ('192.0.2.1', 1, {NB_PORT + 100})" in log
    assert subprocess.run(["crm_attribute", "-N", "old", "-n", ATTRIBUTE, "-l", "forever", "-G", "-q"],
                          env=dict(os.environ, CIB_file=str(cib)), capture_output=True).returncode != 0


@pytest.fixture
def promoted_alone() -> Iterator[Node]:
    """One node promoted with its databases on master_ip (its own address, as a VIP would be)."""
    if not have_ovn():
        pytest.skip("needs OVN's ovsdb tools, ovn-ctl and Pacemaker's crm_attribute")
    lab = Lab(1)
    try:
        (node,) = lab.nodes
        node.params.update(listen_on_master_ip_only="yes", master_ip=node.addr)
        assert node.run("start").rc == 0
        assert lab.promote(node, []).rc == 0
        yield node
    finally:
        lab.close()


def published(node: Node) -> str | None:
    done = subprocess.run(["crm_attribute", "-N", node.name, "-n", ATTRIBUTE, "-l", "forever", "-G", "-q"],
                          env=dict(os.environ, CIB_file=str(node.cib)), capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


@contextlib.contextmanager
def held_session(node: Node) -> Iterator[tuple[str, int]]:
    """The drill's long-lived IDL client holding one session to ``node``'s northbound server
    (skipped without the OVS Python IDL): its client address and port."""
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    writer = LongLivedWriter("held", remote=f"tcp:{node.addr}:{NB_PORT}", wrap=lambda argv: argv)
    writer.start()
    try:
        wait_for("an acknowledged write", lambda: writer.first_ack_after(0.0), limit=15)
        ((address, port),) = established(None, node.addr, NB_PORT)
        yield address, port
    finally:
        writer.stop()


def test_the_promoted_monitor_publishes_its_long_lived_clients_until_stop(promoted_alone: Node) -> None:
    """A client session seen by two promoted monitors in a row is published as
    ``ip,port,server_port`` in the node's permanent attribute, one seen by a single monitor is
    not; with reset_clients=no nothing is; stop removes it."""
    node = promoted_alone
    with held_session(node) as (address, port):
        for _ in range(2):
            assert node.run("monitor", interval_ms=15000, reset_clients="no").rc == 8
        assert published(node) is None
        assert node.run("monitor", interval_ms=15000).rc == 8  # the held session's first sight
        with socket.create_connection((node.addr, NB_PORT)) as brief:  # this one's only sight
            assert node.run("monitor", interval_ms=15000).rc == 8
            brief_port = brief.getsockname()[1]
            words = (published(node) or "").split()
        assert f"{address},{port},{NB_PORT}" in words
        assert not [word for word in words if word.split(",")[1] == str(brief_port)]
    assert node.run("demote").rc == 0 and node.run("stop").rc == 0
    assert published(node) is None


def test_a_cluster_that_cannot_take_the_sessions_fails_no_monitor(promoted_alone: Node) -> None:
    """When the attribute cannot be written (no CIB answers), the promoted monitor still
    says promoted and logs why; the next monitor that can write it publishes the session."""
    node = promoted_alone
    with held_session(node) as (address, port):
        assert node.run("monitor", interval_ms=15000).rc == 8
        env = dict(node.env(interval_ms=15000), CIB_file=str(node.root / "no-such-dir" / "cib.xml"))
        assert subprocess.run([str(AGENT), "monitor"], env=env).returncode == 8
        assert published(node) is None
        assert "the clients' sessions are published at the next monitor" in (node.root / "agent.log").read_text()
        assert node.run("monitor", interval_ms=15000).rc == 8
        assert f"{address},{port},{NB_PORT}" in (published(node) or "").split()
