"""The monitor action: what runs here, as one of OCF's answers (docs/ovndb-monitor-states.md),
and the data position and promotion score that follow from it.

The path Pacemaker runs most (every few seconds on every node): it imports neither the
election, nor the hand-off, nor notifications.
"""

from __future__ import annotations

from ocf_agents.ocf.codes import FailedPromotedError, GenericError, Rc

from . import clients, repl_info, score
from .position import now_ms, record_position
from .state import ACTIVE, BACKUP, BUSY, read_state

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config
    from .state import State


# How long a server may work without answering before the monitor calls it broken: the
# longest busy spells seen were 22 s (the promoted southbound server while ovn-northd loaded
# 20 000 ports' flows into it) and 18 s (a backup loading a 20 000-port southbound copy), in a
# lab on two loaded cores; a server silent for a minute is stuck, whatever its CPU does.
BUSY_LIMIT_MS = 60_000


def monitor(cfg: Config) -> int:
    """7 stopped, 0 both backups, 8 both active (and ovn-northd when managed), 9 a promoted
    instance that is broken, 1 anything else that runs."""
    state = mark_busy(cfg, read_state(cfg))
    # A probe of a node where nothing runs says so, whatever the node was before.
    promoted = cfg.files.role.exists() and not (cfg.ctx.is_probe and state.none_running)
    rc = classify(state, promoted, cfg.manage_northd)
    if cfg.hold_master_ip:
        check_held_address(cfg, rc)
    if rc == Rc.RUNNING_PROMOTED:
        note_restarts(cfg, state)
        record_position(cfg, promoted=True)
        score.set_score(cfg, score.PROMOTED, required=False)
        repl_info.record(cfg)
        clients.publish(cfg)
    elif rc == Rc.SUCCESS:
        if state.all_connected:
            record_position(cfg, promoted=False)
        else:
            _warn_not_replicating(cfg, state)
        if not cfg.ctx.env.notify_enabled:
            from .follow import keep_following  # only then: the usual monitor does not load it

            keep_following(cfg, state)
        score.set_score(cfg, score.backup_score(cfg, state), required=False)
    return rc


def classify(state: State, promoted: bool, manage_northd: bool) -> int:
    """The monitor's answer for a state (``promoted``: this node was promoted and not
    demoted since); raises with a reason for the failures."""
    if state.none_running:
        if state.northd_running and manage_northd:
            raise GenericError(f"ovn-northd runs without its databases ({state.describe()})")
        if promoted:
            raise FailedPromotedError(f"The promoted databases are gone ({state.describe()})")
        return Rc.NOT_RUNNING
    roles = state.roles_taking_busy_as(ACTIVE if promoted else BACKUP)
    if roles == {BACKUP} and not promoted:
        return Rc.SUCCESS
    if roles == {ACTIVE}:
        if manage_northd and not state.northd_running:
            raise FailedPromotedError(f"ovn-northd is not running on the promoted node ({state.describe()})")
        return Rc.RUNNING_PROMOTED
    if promoted:
        raise FailedPromotedError(f"The promoted instance is broken: {state.describe()}")
    raise GenericError(f"The databases are in a mixed or half-dead state: {state.describe()}")


def check_held_address(cfg: Config, rc: int) -> None:
    """hold_master_ip=yes: master_ip is here exactly when this node is promoted (held_ip.py).
    Held by a node that is not promoted (a probe after a crash, a hand-made address), it is
    an error: Pacemaker then stops the instance, and the stop removes it."""
    from .held_ip import holds

    here = holds(cfg)
    if rc == Rc.RUNNING_PROMOTED and not here:
        raise FailedPromotedError(f"master_ip {cfg.master_ip} is not on this promoted node (hold_master_ip=yes)")
    if rc != Rc.RUNNING_PROMOTED and here:
        raise GenericError(f"master_ip {cfg.master_ip} is on this node, which is not promoted (hold_master_ip=yes)")


def mark_busy(cfg: Config, state: State) -> State:
    """The state, a busy server (working, not answering: state._sync_status) kept busy for up
    to BUSY_LIMIT_MS since a monitor first found it so (pids and times in cfg.files.busy),
    not answering after that.

    ovsdb-server answers nobody while it builds a replica's first reply or loads a whole copy:
    seconds at 20 000 ports, 18 s seen in a loaded lab. Calling that broken made Pacemaker
    demote, stop and restart busy servers, which made the cluster busier, until nobody was
    promoted (the lab's 20 000-port switchover). A server that does not work (hung, stopped)
    is reported at once, and one busy for longer than the limit too.
    """
    working = [s for s in state.servers if s.role == BUSY]
    if not working:
        cfg.files.busy.remove()
        return state
    now = now_ms()
    seen = parse_busy(cfg.files.busy.read() or "")
    since = {s.pid: seen.get(s.pid, now) for s in working}
    cfg.files.busy.write(" ".join(f"{pid}@{ms}" for pid, ms in since.items()))
    marked = []
    for server in state.servers:
        if server.pid in since:
            quiet_ms = now - since[server.pid]
            server = server._replace(busy=quiet_ms <= BUSY_LIMIT_MS)
            cfg.ctx.log.warning(f"{server.db.title} server (pid {server.pid}) has not answered for "
                                f"{quiet_ms / 1000:.0f}s but works{'' if server.busy else ': too long'} "
                                f"(limit {BUSY_LIMIT_MS // 1000}s)")
        marked.append(server)
    return state._replace(servers=tuple(marked))


def parse_busy(text: str) -> dict[int, int]:
    """``PID@MS`` words (the file mark_busy writes) as {pid: ms}; any other word counts as
    no record (a damaged file only restarts the count)."""
    seen = {}
    for word in text.split():
        pid, _, ms = word.partition("@")
        if pid.isdigit() and ms.isdigit():
            seen[int(pid)] = int(ms)
    return seen


def note_restarts(cfg: Config, state: State) -> None:
    """ovsdb-server's --monitor restarts a crashed server within a second or two, and the
    server keeps its role: the only trace is a new pid. Log it, so the crash is not missed.

    The role file holds the pids as ``nb=PID sb=PID`` (plain words: a monitor that parsed
    JSON would import ``json`` on every call). Any other content counts as no record: the
    ``{}`` promote writes first, and the JSON of earlier versions (after an upgrade, the
    first monitor records the pids again without a warning).
    """
    pids = " ".join(f"{s.db.key}={s.pid}" for s in state.servers)
    recorded = " ".join(w for w in (cfg.files.role.read() or "").split() if "=" in w)
    if recorded != pids:
        if recorded:
            cfg.ctx.log.warning(f"promoted servers were restarted (pids {recorded} -> {pids}): a crash?")
        cfg.files.role.write(pids)


def _warn_not_replicating(cfg: Config, state: State) -> None:
    for server in state.servers:
        if server.connection is None and not server.busy and server.source_ip != cfg.nowhere_ip:
            cfg.ctx.log.warning(f"{server.db.title} backup is not connected to "
                                f"{server.status.sync_from if server.status else '?'}: its data may be stale")
