"""The cluster as the ovndb-servers agent sees it: the inputs parsed into one value, and what
the agent would conclude from them.

Pure functions only (text in, records out), so that every case is a row of a unit test; the
reading is read.py's. The conclusions use the agent's own rules, imported, never restated:
the published form (position.py), barriers (barrier.py), the election (election.py).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree

from ocf_agents.agents.ovndb import election
from ocf_agents.agents.ovndb.barrier import parse as parse_barrier
from ocf_agents.agents.ovndb.metadata import METADATA
from ocf_agents.agents.ovndb.position import Position, Published, parse_position, parse_published
from ocf_agents.agents.ovndb.state import BACKUP, Server
from ocf_agents.ocf.codes import ParameterError
from ocf_agents.ocf.record import Record

PROMOTED, UNPROMOTED, STOPPED = "Promoted", "Unpromoted", "Stopped"
# Pacemaker before 2.1 names the roles Master and Slave; a started instance of a promotable
# clone is unpromoted.
ROLE_NAMES = {"Master": PROMOTED, "Slave": UNPROMOTED, "Started": UNPROMOTED}


class StatusError(Exception):
    """The cluster (or what the command needs of it) cannot be read: the message says what."""


class Params(Record):
    """What the status needs of the resource's parameters (the agent's defaults applied)."""

    master_ip: str | None
    rundir: str
    dbdir: str
    replicating_score: int
    stale_score: int


class Instance(Record):
    """A node as crm_mon shows it, with the resource's instance on it."""

    node: str
    online: bool
    standby: bool
    role: str  # PROMOTED, UNPROMOTED or STOPPED
    failed: bool


class LocalDb(Record):
    """One database server of the node the command runs on, as its control socket says."""

    title: str  # northbound, southbound
    state: str  # active, backup, not-running, not-answering
    source: str | None  # the address a backup replicates from
    connected: bool | None  # a backup's replication connection is established (None: no backup)


class Inputs(Record):
    """Everything read, before any conclusion; ``problems`` says what could not be read."""

    resource: str
    params: Params
    instances: tuple[Instance, ...]
    scores: dict[str, int | None]
    published: dict[str, str]  # node -> its published position, as attrd keeps it
    local_node: str
    local_dbs: tuple[LocalDb, ...]
    problems: tuple[str, ...] = ()
    recorded: str | None = None  # this node's position file, as its last monitor wrote it


class NodeStatus(Record):
    """One node, and what the agent concludes about it."""

    instance: Instance
    score: int | None
    published: Published | None
    databases: tuple[LocalDb, ...] | None  # only on the node the command runs on
    # The promoted node's published position minus this node's, 0 when not behind (backups
    # publish at the pre-promote notification, after the position the promoted node publishes).
    behind_ms: int | None
    promotable: bool | None  # None: the promoted node itself
    why_not: tuple[str, ...]


class ClusterStatus(Record):
    resource: str
    local_node: str
    promoted: str | None
    source: str | None  # where the backups should replicate from: the promoted node's address
    nodes: tuple[NodeStatus, ...]
    problems: tuple[str, ...]
    # This node's data position as its monitors record it (the published one is an
    # election's): None when none was ever recorded here.
    recorded: Position | None = None


# -- parsing ---------------------------------------------------------------------------------
def _xml(text: str, what: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        raise StatusError(f"{what} printed no XML ({err})") from None


def complaint(stdout: str, stderr: str) -> str:
    """What a failed tool said: the last error of a ``--output-as=xml`` result (crm_mon puts
    its errors there, on stdout), else the last line it printed."""
    said = _result_errors(stdout) if stdout.lstrip().startswith("<pacemaker-result") else []
    lines = said or (stderr or stdout).strip().splitlines()
    return lines[-1].strip() if lines else ""


def _result_errors(text: str) -> list[str]:
    """The errors of a ``<pacemaker-result>``, or its status's message when it lists none."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return []
    status = root.find("status")
    return [e.text or "" for e in root.iter("error")] or ([status.get("message", "")] if status is not None else [])


def parse_crm_mon(text: str, resource: str) -> tuple[Instance, ...]:
    """Every node of ``crm_mon --output-as=xml`` with the role of ``resource``'s instance on
    it (Stopped where none runs). A resource crm_mon does not list is an error: a wrong
    ``--resource``, or no ovndb-servers resource in this cluster."""
    root = _xml(text, "crm_mon")
    roles: dict[str, tuple[str, bool]] = {}
    found = False
    for element in root.iterfind("./resources//resource"):
        if element.get("id", "").split(":")[0] != resource:
            continue
        found = True
        role = ROLE_NAMES.get(element.get("role", ""), element.get("role", STOPPED))
        for node in element.iterfind("node"):
            roles[node.get("name", "")] = (role, element.get("failed") == "true")
    if not found:
        raise StatusError(f"crm_mon lists no resource {resource!r} (see --resource)")
    return tuple(Instance(n.get("name", ""), n.get("online") == "true", n.get("standby") == "true",
                          *roles.get(n.get("name", ""), (STOPPED, False)))
                 for n in root.iterfind("./nodes/node"))


def parse_params(text: str, resource: str) -> Params:
    """The parameters of primitive ``resource`` in ``cibadmin --query --scope resources``,
    converted as the agent converts them (its defaults for those not set)."""
    root = _xml(text, "cibadmin")
    primitive = next((p for p in root.iter("primitive") if p.get("id") == resource), None)
    if primitive is None:
        raise StatusError(f"the CIB has no primitive {resource!r} (see --resource)")
    raw = {pair.get("name", ""): pair.get("value", "")
           for pair in primitive.iterfind("instance_attributes/nvpair")}
    try:
        value = {name: METADATA.parameter(name).convert(raw.get(name))
                 for name in ("master_ip", "ovn_rundir", "ovn_dbdir", "replicating_score", "stale_score")}
    except ParameterError as err:
        raise StatusError(f"resource {resource}: {err}") from None
    return Params(value["master_ip"], value["ovn_rundir"], value["ovn_dbdir"], value["replicating_score"],
                  value["stale_score"])


def parse_attrd(text: str) -> dict[str, str]:
    """Every node's value in ``attrd_updater -Q -A -n NAME``'s lines ``name="NAME"
    host="NODE" value="VALUE"`` (empty values left out: nothing published)."""
    values = {}
    for line in text.splitlines():
        host, _, value = line.partition(' host="')[2].partition('" value="')
        if host and value.endswith('"') and len(value) > 1:
            values[html.unescape(host)] = html.unescape(value[:-1])
    return values


def local_db(server: Server) -> LocalDb:
    """A server of this node as the agent's monitor reads it (state.Server): its role, the
    address a backup replicates from, whether a backup's connection is established."""
    backup = server.role == BACKUP
    return LocalDb(server.db.title, server.role, server.source_ip, server.connection is not None if backup else None)


def parse_score(text: str) -> int | None:
    """``crm_attribute --promotion -G -q``'s answer: a score, or None (none, or not a number)."""
    try:
        return int(text.strip())
    except ValueError:
        return None


# -- conclusions -----------------------------------------------------------------------------
def conclude(inputs: Inputs) -> ClusterStatus:
    """What the agent would make of what was read: who is promoted, where the backups should
    replicate from, and for every other node how far behind it is and why it may not be
    promoted."""
    published = {node: parse_published(text) for node, text in inputs.published.items()}
    promoted = next((i.node for i in inputs.instances if i.role == PROMOTED), None)
    source = promoted and ((published[promoted].address if promoted in published else None)
                           or inputs.params.master_ip)
    nodes = tuple(_node(inputs, instance, published, promoted, source) for instance in inputs.instances)
    recorded = parse_position(inputs.recorded) if inputs.recorded else None
    return ClusterStatus(inputs.resource, inputs.local_node, promoted, source, nodes, inputs.problems, recorded)


def _node(inputs: Inputs, instance: Instance, published: dict[str, Published], promoted: str | None,
          source: str | None) -> NodeStatus:
    mine = published.get(instance.node)
    databases = inputs.local_dbs if instance.node == inputs.local_node else None
    score = inputs.scores.get(instance.node)
    ahead = published.get(promoted) if promoted else None
    behind = max(0, ahead.position.ms - mine.position.ms) if ahead and mine and instance.role != PROMOTED else None
    if instance.role == PROMOTED:
        return NodeStatus(instance, score, mine, databases, None, None, ())
    scored = score_problems(score, inputs.params)
    why_not = (*role_problems(instance), *scored, *replication_problems(databases or (), source),
               *(election_problems(instance.node, mine, published) if scored else ()))
    return NodeStatus(instance, score, mine, databases, behind, not why_not, why_not)


def role_problems(instance: Instance) -> tuple[str, ...]:
    """A node Pacemaker cannot promote whatever its data: not online, in standby, its
    instance not running or failed."""
    if not instance.online:
        return ("offline",)
    return tuple(reason for reason, applies in (
        ("in standby", instance.standby),
        (f"instance {instance.role.lower()}", instance.role != UNPROMOTED),
        ("instance failed", instance.failed)) if applies)


def score_problems(score: int | None, params: Params) -> tuple[str, ...]:
    """Pacemaker promotes the highest score: none, the stale one (a backup whose data may be
    behind, score.py), or any other below a replicating backup's keeps a node from being
    chosen while a replicating backup exists. Only the stale score says the data may be
    behind: an agent of another version scores by its own defaults (0.1.0 gives a replicating
    backup 5, this version 10: docs/runbook.md, "Upgrading the agent")."""
    if score is None:
        return ("no promotion score",)
    if score <= params.stale_score:
        return (f"stale score {score} (a replicating backup has {params.replicating_score})",)
    if score < params.replicating_score:
        return (f"score {score}, below a replicating backup's {params.replicating_score}",)
    return ()


def replication_problems(databases: tuple[LocalDb, ...], source: str | None) -> tuple[str, ...]:
    """On the node the command runs on: each database a backup, replicating from the promoted
    node's address, connected (the agent's replicating score needs all three)."""
    problems = []
    for db in databases:
        if db.state != BACKUP:
            problems.append(f"{db.title} {db.state}")
        elif source is not None and db.source != source:
            problems.append(f"{db.title} replicates from {db.source or 'nowhere'}, not {source}")
        elif not db.connected:
            problems.append(f"{db.title} not connected to {db.source}")
    return tuple(problems)


def election_problems(node: str, mine: Published | None, published: dict[str, Published]) -> tuple[str, ...]:
    """The election's verdict (election.compare): a node whose data another node's clearly
    outranks (a later barrier, or the same barrier and a clearly newer position) is refused
    when it is chosen. Compared with every other node that published its position. A node
    that has published none (it rejoined since the last election) publishes at the next one:
    nothing to judge until then. Nor by barrier a node whose form has no ``held=`` (published
    by 0.1.0, perhaps before the node's upgrade): its barrier is unknown, not none, and the
    time positions decide, as the election decides with such a candidate.

    Judged only for a node without the replicating score (conclude): one that has it was
    connected to the promoted node at its last monitor, so it holds the promoted node's data
    whatever it published at the last election, and publishes that at the next one. With
    notifications a backup publishes only at elections: after every node was lost, the node
    that lost the election kept its older barrier in the table while it replicated the
    winner's data (docs/runbook.md), and was called older for good."""
    if mine is None:
        return ()
    held = parse_barrier(mine.held)
    known = {other: theirs if mine.held is not None else theirs._replace(held=None)
             for other, theirs in published.items() if other != node}
    return tuple(f"older data than {other} ({election.why(theirs, mine.position, held)})"
                 for other, theirs in sorted(known.items()) if election.compare(theirs, mine.position, held) > 0)
