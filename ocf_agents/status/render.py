"""A :class:`~.model.ClusterStatus` as an operator reads it (a table, then the reasons and
this node's databases) or as a monitoring system does (JSON, every field named)."""

from __future__ import annotations

import json
import textwrap
import time

from .model import ClusterStatus, LocalDb, NodeStatus, Position

WIDTH = 120  # the reasons are wrapped to a terminal's width; the table's cells are short
HEADERS = ("NODE", "ROLE", "SCORE", "LISTENS ON", "HELD", "POSITION", "BEHIND", "PROMOTABLE")


def when(ms: int) -> str:
    """A published position (ms since the epoch) in this host's local time, to the
    millisecond, without the year (the table stays narrow; the JSON has the number); 0 is
    never."""
    if ms <= 0:
        return "never"
    return time.strftime("%m-%d %H:%M:%S", time.localtime(ms / 1000)) + f".{ms % 1000:03d}"


def dash(value: object) -> str:
    return "-" if value is None else str(value)


def row(node: NodeStatus, local: str) -> tuple[str, ...]:
    """One node's cells; ``*`` marks the node the command runs on."""
    instance, published = node.instance, node.published
    role = instance.role if instance.online else "offline"
    return (instance.node + ("*" if instance.node == local else ""),
            role + ("/failed" if instance.failed else "") + ("/standby" if instance.standby else ""),
            dash(node.score),
            dash(published and published.address),
            "-" if published is None else "?" if published.held is None else published.held,
            "-" if published is None else when(published.position.ms),
            "-" if node.behind_ms is None else f"{node.behind_ms} ms",
            "-" if node.promotable is None else "yes" if node.promotable else "no")


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def database(db: LocalDb) -> str:
    """``northbound  backup from 10.0.0.1, connected``."""
    text = f"{db.title:<11} {db.state}"
    if db.state == "backup":
        text += f" from {db.source or 'nowhere'}, " + ("connected" if db.connected else "not connected")
    return text


def recorded(position: Position | None) -> str:
    """This node's recorded position: when, as what, by which monitor."""
    if position is None:
        return "none"
    kind = "promoted" if position.promoted else "backup"
    return f"{when(position.ms)} ({kind}, monitor every {position.interval_ms} ms)"


def text(status: ClusterStatus) -> str:
    """The table, who replicates from where, why each node that may not be promoted may not,
    this node's databases and what could not be read."""
    promoted = status.promoted or "no node"
    lines = [f"{status.resource}: {promoted} promoted" +
             (f", the backups replicate from {status.source}" if status.source else "")]
    lines += table([HEADERS, *(row(node, status.local_node) for node in status.nodes)])
    for node in status.nodes:
        if node.why_not:
            lines += textwrap.wrap(f"{node.instance.node} may not be promoted: {'; '.join(node.why_not)}",
                                   WIDTH, subsequent_indent="  ")
    local = next((node for node in status.nodes if node.databases is not None), None)
    if local is not None:
        lines.append(f"databases on {local.instance.node} (this node):")
        lines += [f"  {database(db)}" for db in local.databases or ()]
        lines.append(f"  data position recorded here: {recorded(status.recorded)}")
    lines += [line for problem in status.problems
              for line in textwrap.wrap(f"could not read {problem}", WIDTH, subsequent_indent="  ")]
    return "\n".join(lines)


def node_json(node: NodeStatus) -> dict[str, object]:
    instance, published = node.instance, node.published
    return {
        "name": instance.node, "online": instance.online, "standby": instance.standby,
        "role": instance.role, "failed": instance.failed, "score": node.score,
        "published": None if published is None else {
            "text": str(published), "position_ms": published.position.ms,
            "position_promoted": published.position.promoted, "interval_ms": published.position.interval_ms,
            "address": published.address, "offer": published.offer, "held": published.held},
        "behind_ms": node.behind_ms, "promotable": node.promotable, "why_not": list(node.why_not),
        "databases": None if node.databases is None else [db._asdict() for db in node.databases],
    }


def as_json(status: ClusterStatus) -> str:
    """Every field, named; ``promotable`` is null for the promoted node, ``databases`` null
    for every node but the one the command ran on, whose recorded position is
    ``recorded_position``."""
    return json.dumps({
        "resource": status.resource, "local_node": status.local_node, "promoted": status.promoted,
        "replication_source": status.source, "nodes": [node_json(node) for node in status.nodes],
        "recorded_position": status.recorded and status.recorded._asdict(),
        "problems": list(status.problems)}, indent=2)
