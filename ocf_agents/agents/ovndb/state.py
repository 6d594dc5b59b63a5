"""Reading the two servers (and ovn-northd) as they are right now, and the questions the
actions ask of what was read."""

from __future__ import annotations

from ocf_agents.ocf.codes import GenericError, OCFError
from ocf_agents.ocf.record import Record
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.unixctl import UnixctlError

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from typing import Callable

    from ocf_agents.net.tcp import TcpConnection

    from .config import Config, Db

# A server's role: ovsdb-server's own two, or why it has none.
ACTIVE = "active"
BACKUP = "backup"
NOT_RUNNING = "not-running"
NOT_ANSWERING = "not-answering"
BUSY = "busy"  # running, not answering, but working (see _sync_status)

QUICK_ANSWER = 0.25  # seconds a server is given before its CPU time says whether it is busy


class Server(Record):
    """What one database server looks like right now."""

    db: Db
    pid: int | None
    status: ovsdb.SyncStatus | None
    connection: TcpConnection | None  # a backup's live link to its active server
    busy: bool = False  # not answering, but working

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def role(self) -> str:
        if self.pid is None:
            return NOT_RUNNING
        if self.status is None:
            return BUSY if self.busy else NOT_ANSWERING
        return self.status.role

    @property
    def source_ip(self) -> str | None:
        """The address a backup replicates (or tries to replicate) from."""
        parsed = ovsdb.parse_remote(self.status.sync_from or "") if self.status else None
        return parsed[1] if parsed else None


class State(Record):
    """Both servers and ovn-northd."""

    servers: tuple[Server, Server]
    northd_running: bool

    @property
    def roles(self) -> set[str]:
        return {s.role for s in self.servers}

    def roles_taking_busy_as(self, role: str) -> set[str]:
        """The roles, a busy server taken to hold ``role``: it cannot tell, and only this
        agent's own actions change a server's role."""
        return {role if r == BUSY else r for r in self.roles}

    @property
    def all_answering(self) -> bool:
        """Both servers run and answer on their control sockets."""
        return all(s.status is not None for s in self.servers)

    @property
    def any_running(self) -> bool:
        return any(s.running for s in self.servers)

    @property
    def none_running(self) -> bool:
        return self.roles == {NOT_RUNNING}

    @property
    def all_backups(self) -> bool:
        return self.roles == {BACKUP}

    @property
    def any_active(self) -> bool:
        return ACTIVE in self.roles

    @property
    def all_active(self) -> bool:
        return self.roles == {ACTIVE}

    @property
    def all_connected(self) -> bool:
        """Both backups hold a live connection to the server they replicate from."""
        return all(s.connection is not None for s in self.servers)

    def describe(self) -> str:
        text = ", ".join(f"{s.db.title} {s.role}" for s in self.servers)
        return text + (", ovn-northd running" if self.northd_running else "")


def read_state(cfg: Config) -> State:
    seen = []
    for db in cfg.dbs:
        pid = ovsdb.live_pid(db.database.pidfile, ovsdb.SERVER_PROGRAM)
        seen.append((db, pid, *(_sync_status(cfg, db, pid) if pid is not None else (None, False))))
    # One read of the kernel's TCP table for both backups (each read walks all of it).
    backups = [(pid, status.sync_from if status is not None and status.role == BACKUP else None)
               for _, pid, status, _ in seen]
    servers = [Server(db, pid, status, connection, busy)
               for (db, pid, status, busy), connection in zip(seen, ovsdb.replication_connections(backups))]
    northd = ovsdb.live_pid(cfg.northd_pidfile, ovsdb.NORTHD_PROGRAM)
    return State((servers[0], servers[1]), northd is not None)


def _sync_status(cfg: Config, db: Db, pid: int) -> tuple[ovsdb.SyncStatus | None, bool]:
    """The server's role and source, or None and whether it is busy.

    A healthy server answers its control socket in 0.1 ms; one that builds a replica's first
    reply or loads a whole copy answers nothing for seconds (5-18 s seen at 20 000 ports in a
    loaded lab) while it uses CPU. So it is asked for QUICK_ANSWER seconds first: silent and
    working meanwhile, it is busy; silent and idle (stopped, hung, just slow to be
    scheduled), it is asked again for the rest of the usual timeout. Waiting that timeout out
    for a busy server held a loaded Pacemaker's one action slot on the node, and the VIP's
    start waited (2.8 s in the lab's 20 000-port switchover)."""
    timeout = cfg.timeout()
    before = ovsdb.cpu_ticks(pid)
    try:
        return ovsdb.sync_status(db.database, min(QUICK_ANSWER, timeout)), False
    except (UnixctlError, ovsdb.OvsdbError):
        pass
    after = ovsdb.cpu_ticks(pid)
    if before is not None and after is not None and after > before:
        return None, True
    try:
        return ovsdb.sync_status(db.database, max(0.1, timeout - QUICK_ANSWER)), False
    except (UnixctlError, ovsdb.OvsdbError) as err:
        cfg.ctx.log.warning(str(err))
        return None, False


def read_state_patiently(cfg: Config, worth_waiting: Callable[[Server], bool] = lambda server: True) -> State:
    """The state once every running server answers, waiting up to cfg.patient_timeout(): a
    server busy sending or loading a whole copy of a large database answers nothing for
    seconds (seen at 20 000 ports and more). A server that does not run is not waited for,
    nor one that ``worth_waiting`` rejects; the last state read when the wait ends."""
    limit = cfg.patient_timeout()
    last: list[State] = []

    def settled() -> State | None:
        first = not last
        last[:] = [read_state(cfg)]
        waiting = [s for s in last[0].servers if s.running and s.status is None and worth_waiting(s)]
        if waiting and first:
            names = " and ".join(s.db.title for s in waiting)
            cfg.ctx.log.info(f"{names} server does not answer: waiting up to {limit:.1f}s for it "
                             f"(busy with a large database?)")
        return None if waiting else last[0]

    try:
        return cfg.ctx.budget.wait_for("the databases to answer", settled, 0.1, limit=limit)
    except OCFError:
        return last[0]


def wait_until(cfg: Config, what: str, condition: Callable[[State], bool]) -> State:
    """Poll the state until ``condition`` holds, within the action's budget."""
    last: list[State] = []

    def check() -> State | None:
        state = read_state(cfg)
        last[:] = [state]
        return state if condition(state) else None

    try:
        return cfg.ctx.budget.wait_for(what, check, 0.05)
    except OCFError as err:
        seen = last[0].describe() if last else "nothing"
        raise GenericError(f"{err.reason}; last seen: {seen}") from None


def live_pids(cfg: Config) -> list[int]:
    pids = (ovsdb.live_pid(db.database.pidfile, ovsdb.SERVER_PROGRAM) for db in cfg.dbs)
    return [pid for pid in pids if pid is not None]
