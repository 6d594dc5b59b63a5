"""Adding a node to the lab's cluster and removing one, as ``pcs cluster node add`` and
``pcs cluster node remove`` do on a real cluster (pcs itself needs pcsd and systemd, which
the lab's nodes do not run).

What pcs does, in its order: on adding, the new membership's corosync.conf on every node
(``two_node`` set for two nodes, dropped for more), reloaded by the running nodes
(``corosync-cfgtool -R``), then the new node started; it brings no CIB of its own and takes the
cluster's from the DC. On removing, the node's cluster stopped first (its resources stopped or
moved by Pacemaker, as ``pcs cluster stop`` does), the rest's corosync.conf written and
reloaded, then the node forgotten by Pacemaker (``crm_node --force --remove``).

The lab's nodes are node1 to nodeN: a node is added as node(N+1), and only nodeN is removed.
"""

from __future__ import annotations

import shutil

from . import network, nodes
from .lab import Lab
from .layout import MAX_NODES, MIN_NODES, LabError, Node


def add_node(lab: Lab) -> Node:
    """Make, boot and return the next node; returns once every running node sees it online."""
    if lab.state.node_count >= MAX_NODES:
        raise LabError(f"the lab has {lab.state.node_count} nodes already, the most it can have")
    running = lab.running()
    lab.state.node_count += 1
    members = lab.nodes
    new = members[-1]
    lab.state.save()
    nodes.make_disk(new, members, seeded=False)
    reconfigure(lab, running, members)
    lab.start(new)
    lab.wait_online([*running, new])
    return new


def remove_node(lab: Lab, node: Node) -> None:
    """Stop ``node`` cleanly and take it out of the cluster; the last node only."""
    if node != lab.nodes[-1]:
        raise LabError(f"only the last node, {lab.nodes[-1].name}, can be removed from the lab")
    if lab.state.node_count <= MIN_NODES:
        raise LabError(f"the lab needs {MIN_NODES} nodes at least")
    lab.stop(node)
    lab.state.node_count -= 1
    lab.state.save()
    remaining = lab.running()
    reconfigure(lab, remaining, lab.nodes)
    if remaining:
        # Once Pacemaker has seen it leave: a node forgotten before that is written back
        # into the CIB as an offline node when the leave is processed (seen in the lab).
        lab.wait_view(remaining[0], f"{node.name} to have left", lambda view: node.name not in view.online)
        lab.run(remaining[0], ["crm_node", "--force", "--remove", node.name])
    network.remove_node_network(node)
    shutil.rmtree(node.dir, ignore_errors=True)


def reconfigure(lab: Lab, running: list[Node], members: list[Node]) -> None:
    """corosync.conf for ``members`` on each of them, then reloaded by the ``running`` ones
    (one ``corosync-cfgtool -R`` tells them all)."""
    for node in members:
        nodes.write_corosync_conf(node, members)
    if running:
        lab.run(running[0], ["corosync-cfgtool", "-R"])
