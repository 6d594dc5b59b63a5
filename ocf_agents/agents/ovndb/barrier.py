"""Barriers: values the promoted node commits into both databases, which mark a point in their
history that any replica can later show it holds.

A barrier is ``external_ids:ovndb-servers-barrier`` in the ``NB_Global`` and ``SB_Global``
rows, a key OVN does not read. OVSDB replicates in commit order, so a replica that holds a
barrier holds every write committed before it: the last barrier a replica holds is its *data
position*, which the hand-off (handoff.py) and the election (election.py) use.

The value is ``<counter>:<ms>:<node>``: the counter is one more than the highest counter the
committing node's databases hold, so along one history every barrier outranks the ones before
it whatever the nodes' clocks say; ``ms`` (when it was committed) orders barriers with the same
counter, which only a fail-over to a node that had missed the last barrier creates (two
branches of the history; the later branch is the one the cluster went on with); ``node``
committed it. The first version's ``<node>:<ms>`` counts as counter 0.
"""

from __future__ import annotations

from ocf_agents.ocf.record import Record
from ocf_agents.ovs import ovsdb

from .position import now_ms

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config

KEY = "ovndb-servers-barrier"


class Barrier(Record):
    """A barrier's value, ordered by :func:`rank`."""

    counter: int
    ms: int
    node: str

    def __str__(self) -> str:
        return f"{self.counter}:{self.ms}:{self.node}"


def rank(barrier: Barrier | None) -> tuple[int, int]:
    """The order of data positions: a later barrier ranks higher, no barrier lowest."""
    return (barrier.counter, barrier.ms) if barrier else (-1, -1)


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse(text: str | None) -> Barrier | None:
    """A barrier as :class:`Barrier` writes it, or the first version's ``<node>:<ms>``;
    None for anything else (no barrier, or a value nobody here wrote). A node name with
    white space is refused too: a barrier is one word of the published position."""
    if not text or text.split() != [text]:
        return None
    counter, _, rest = text.partition(":")
    ms, _, node = rest.partition(":")
    if _number(counter) and _number(ms) and node:
        return Barrier(int(counter), int(ms), node)
    node, _, ms = text.rpartition(":")
    return Barrier(0, int(ms), node) if node and _number(ms) else None


def names(barrier: Barrier | None, published: str | None) -> bool:
    """``published`` (an offer as a demoted node published it) names ``barrier``. Compared
    as barriers, not as text: a node of the first version offers ``<node>:<ms>``, which
    this version holds, and writes, as ``0:<ms>:<node>`` (a rolling upgrade's successor
    took its own barrier for another one, and committed a second)."""
    return barrier is not None and barrier == parse(published)


def _each(cfg: Config, timeout: float | None = None) -> list[Barrier | None]:
    """The barrier each database of this node holds in its own copy (a backup answers reads)."""
    return [parse(ovsdb.global_external_id(db.database, KEY, timeout or cfg.timeout())) for db in cfg.dbs]


def held(cfg: Config, timeout: float | None = None) -> Barrier | None:
    """This node's data position: the older of its two databases' barriers (both must hold
    it), None when either holds none or does not answer within ``timeout`` (default: the
    usual request's)."""
    try:
        barriers = _each(cfg, timeout)
    except ovsdb.OvsdbError as err:
        cfg.ctx.log.warning(f"could not read the barrier this node holds: {err}")
        return None
    return None if None in barriers else min(barriers, key=rank)


def held_in_files(cfg: Config) -> Barrier | None:
    """:func:`held` of a node whose servers may not run (a failed promoted node's start),
    read from its database files. Where the key was last removed (no barrier is ever
    removed by the agent) this is the removed barrier: a newer data position than the
    node's, which only makes a failed promoted node keep a copy it did not need."""
    barriers = [parse(ovsdb.last_map_value(cfg.db_file(db), KEY)) for db in cfg.dbs]
    return None if None in barriers else min(barriers, key=rank)


def holds(cfg: Config, barrier: str) -> bool:
    """Both databases of this node hold ``barrier`` (as published) in their own copy."""
    try:
        return all(ovsdb.global_external_id(db.database, KEY, cfg.timeout()) == barrier for db in cfg.dbs)
    except ovsdb.OvsdbError:
        return False


def commit(cfg: Config, otherwise: str) -> Barrier | None:
    """Commit the next barrier in both databases (active servers) and return it; None,
    logged with ``otherwise`` (what follows without it), when a server refuses."""
    try:
        counter = max((b.counter for b in _each(cfg) if b), default=0) + 1
        barrier = Barrier(counter, now_ms(), cfg.ctx.cluster.node_name())
        for db in cfg.dbs:
            ovsdb.ensure_global_row(db.database, cfg.timeout())  # a new database has none yet
            ovsdb.set_global_external_id(db.database, KEY, str(barrier), cfg.timeout())
    except ovsdb.OvsdbError as err:
        cfg.ctx.log.warning(f"no barrier committed ({err}): {otherwise}")
        return None
    return barrier


def committed_after(cfg: Config, barrier: Barrier) -> str | None:
    """The title of a database whose file's last commit is not ``barrier`` (something was
    committed after it), None when it is the last commit of both. Reads each file's end
    only: the cost does not grow with the database."""
    for db in cfg.dbs:
        last = ovsdb.last_commit(cfg.db_file(db)) or {}
        if set(last) - {"_date", "_comment", "_is_diff"} != {db.database.global_table} or \
                not any(_sets(row, str(barrier)) for row in last[db.database.global_table].values()):
            return db.title
    return None


def _sets(row: object, value: str) -> bool:
    """A row of a database file's record sets the barrier key to ``value``."""
    ids = row.get("external_ids") if isinstance(row, dict) else None
    return isinstance(ids, list) and ids[:1] == ["map"] and [KEY, value] in ids[1]
