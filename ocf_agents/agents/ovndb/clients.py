"""The promoted node's long-lived clients, and ending their sessions once it is lost
(``reset_clients``; docs/guide.md "Clients that hold a connection").

A client holding a session to master_ip when the promoted node crashes learns of it only when
a retransmission of its own reaches the VIP's new holder, 6 to 13 s later (net/challenge.py).
The new promoted node can end such a session at once, but only if it knows the session's
client address and port, and the crashed node's transient and private attributes are erased
when it is lost. So the promoted node's monitor publishes them in a permanent node attribute,
which outlives it, and a new promoted node sends each session a SYN from master_ip once the
address is up on it (promote starts the ``reset-clients`` helper: the VIP starts only after the
promote).

What is published is bounded and changes seldom: only sessions seen by two monitors in a row
(a one-shot client such as ovn-nbctl is gone by the next monitor, and would otherwise rewrite
the CIB every time), at most MAX_PEERS of them, written only when that set changes.
"""

from __future__ import annotations

import time

from ocf_agents.net import tcp
from ocf_agents.ocf.cluster import ClusterUnreachable
from ocf_agents.ocf.codes import GenericError, Rc

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from typing import Iterable

    from .config import Config

    Peer = tuple[str, int, int]  # client ip, client port, server port

# A session takes about 25 bytes of the attribute: 128 keep it under 4 kB, which the CIB
# sends to every node at each change. Beyond it, the surplus reconnects as without the reset.
MAX_PEERS = 128
ROUNDS = 3  # SYNs per session: the clients' neighbour caches may still name the old holder
ROUND_GAP = 0.6  # s; more than Linux's default tcp_invalid_ratelimit (0.5 s per session)
LIFETIME = "forever"  # a permanent node attribute: it survives the node's loss


def attribute(cfg: Config) -> str:
    return f"{cfg.ctx.env.resource_name}-clients"


def format_peers(peers: Iterable[Peer]) -> str:
    """``ip,port,server_port`` words, NB's sessions first, at most MAX_PEERS."""
    return " ".join(f"{ip},{port},{server}" for ip, port, server in sorted(peers, key=_order)[:MAX_PEERS])


def parse_peers(text: str) -> list[Peer]:
    """The sessions in a published value; words that are not ``ip,port,server_port`` with
    two numbers are left out (their addresses are checked before anything is sent)."""
    peers = []
    for word in text.split():
        ip, _, ports = word.partition(",")
        port, _, server = ports.partition(",")
        if port.isdigit() and server.isdigit():
            peers.append((ip, int(port), int(server)))
    return peers


def _order(peer: Peer) -> tuple[int, str, int]:
    return peer[2], peer[0], peer[1]


def publish(cfg: Config) -> None:
    """The promoted monitor's part: publish the sessions seen now and by the last monitor,
    when they differ from what was published. Costs one read of this namespace's TCP table
    (and the CIB update when the set changed)."""
    if not cfg.reset_clients:
        return
    seen = format_peers(tcp.peers_of(str(cfg.master_ip), [db.port for db in cfg.dbs]))
    last_seen, _, published = (cfg.files.clients.read() or "").partition("\n")
    steady = format_peers(set(parse_peers(seen)) & set(parse_peers(last_seen)))
    if (seen, steady) == (last_seen, published):
        return
    if steady != published:
        try:
            _write(cfg, steady)
            published = steady
        except ClusterUnreachable as err:  # a monitor does not fail for it: the next one tries again
            cfg.ctx.log.warning(f"{err.reason}; the clients' sessions are published at the next monitor")
    cfg.files.clients.write(f"{seen}\n{published}")


def _write(cfg: Config, peers: str, node: str | None = None) -> None:
    """Set (or, for none, delete) the permanent attribute of this node, or of ``node``."""
    if peers:
        cfg.ctx.cluster.set_node_attribute(attribute(cfg), peers, node=node, lifetime=LIFETIME)
    else:
        cfg.ctx.cluster.delete_node_attribute(attribute(cfg), node=node, lifetime=LIFETIME)


def forget(cfg: Config) -> None:
    """On start and stop: this node's servers hold no session now, and a published set left
    from before would have its clients reset by the next promoted node for nothing."""
    cfg.files.clients.remove()
    if not cfg.reset_clients:
        return
    try:
        _write(cfg, "")
    except ClusterUnreachable as err:
        cfg.ctx.log.warning(f"{err.reason}; this node's published clients stay until its next start or stop")


def start_helper(cfg: Config) -> None:
    """The promote's part: start the ``reset-clients`` action detached, with the promote's
    environment (its parameters, and its timeout as the helper's budget)."""
    if not cfg.reset_clients:
        return
    cfg.ctx.spawn_action("reset-clients")
    cfg.ctx.log.info(f"it resets the other nodes' clients once master_ip {cfg.master_ip} is up here")


def reset_others(cfg: Config) -> int:
    """The ``reset-clients`` action: once master_ip is up on this node, a SYN from it to each
    session the other nodes published (their attributes are removed once used). Bounded by
    the budget (the promote's timeout); what it did is logged."""
    from ocf_agents.net import challenge, route

    from .held_ip import announce

    if not cfg.reset_clients:
        return Rc.SUCCESS
    me = cfg.ctx.cluster.node_name()
    published = {node: parse_peers(value) for node, value in
                 cfg.ctx.cluster.permanent_attributes(attribute(cfg)).items() if node != me}
    if not any(published.values()):
        return Rc.SUCCESS
    ip = str(cfg.master_ip)
    cfg.ctx.budget.wait_for(f"master_ip {ip} to be up here", lambda: route.address_is_local(ip), 0.05)
    peers = _checked(cfg, {peer for node_peers in published.values() for peer in node_peers})
    where = announce(cfg, ip)
    for round_ in range(ROUNDS):
        if round_:
            time.sleep(min(ROUND_GAP, cfg.ctx.budget.remaining()))
        try:
            challenge.send_syns(ip, peers)
        except OSError as err:
            raise GenericError(f"could not send the SYNs from master_ip {ip}: {err}") from None
    cfg.ctx.log.info(f"announced master_ip {ip} on {where}, sent {ROUNDS} SYNs from it to each of {len(peers)} "
                     f"sessions of the clients of {', '.join(sorted(published))}: they reconnect to this node")
    for node in published:
        _write(cfg, "", node)
    return Rc.SUCCESS


def _checked(cfg: Config, peers: set[Peer]) -> list[Peer]:
    """The sessions a SYN may go to (net/challenge.valid_peer); the others are logged."""
    from ocf_agents.net.challenge import valid_peer

    ports = [db.port for db in cfg.dbs]
    kept = []
    for peer in sorted(peers, key=_order):
        why = valid_peer(str(cfg.master_ip), peer, ports)
        if why:
            cfg.ctx.log.warning(f"not resetting published session {peer}: {why}")
        else:
            kept.append(peer)
    return kept
