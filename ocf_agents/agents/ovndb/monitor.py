"""The monitor action: what runs here, as one of OCF's answers (docs/ovndb-monitor-states.md),
and the data position and promotion score that follow from it.

The path Pacemaker runs most (every few seconds on every node): it imports neither the
election, nor the hand-off, nor notifications.
"""

from __future__ import annotations

from ocf_agents.ocf.codes import FailedPromotedError, GenericError, Rc

from . import clients, score
from .position import record_position
from .state import busy, read_state_patiently

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config
    from .state import State


def monitor(cfg: Config) -> int:
    """7 stopped, 0 both backups, 8 both active (and ovn-northd when managed), 9 a promoted
    instance that is broken, 1 anything else that runs."""
    # A server building a replica's first reply or loading a whole copy answers nothing for
    # seconds while it works: calling it broken made Pacemaker restart a busy cluster (seen at
    # 20 000 ports with ovn-northd). Wait for a busy one, up to three quarters of the budget
    # (the rest is for the scores); a silent server that does not work (hung, stopped) is
    # reported at once.
    state = read_state_patiently(cfg, cfg.ctx.budget.remaining() * 3 / 4, busy)
    # A probe of a node where nothing runs says so, whatever the node was before.
    promoted = cfg.files.role.exists() and not (cfg.ctx.is_probe and state.none_running)
    rc = classify(state, promoted, cfg.manage_northd)
    if rc == Rc.RUNNING_PROMOTED:
        note_restarts(cfg, state)
        record_position(cfg, promoted=True)
        score.set_score(cfg, score.PROMOTED, required=False)
        clients.publish(cfg)
    elif rc == Rc.SUCCESS:
        if state.all_connected:
            record_position(cfg, promoted=False)
        else:
            _warn_not_replicating(cfg, state)
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
    if state.all_backups and not promoted:
        return Rc.SUCCESS
    if state.all_active:
        if manage_northd and not state.northd_running:
            raise FailedPromotedError(f"ovn-northd is not running on the promoted node ({state.describe()})")
        return Rc.RUNNING_PROMOTED
    if promoted:
        raise FailedPromotedError(f"The promoted instance is broken: {state.describe()}")
    raise GenericError(f"The databases are in a mixed or half-dead state: {state.describe()}")


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
        if server.connection is None and server.source_ip != cfg.nowhere_ip:
            cfg.ctx.log.warning(f"{server.db.title} backup is not connected to "
                                f"{server.status.sync_from if server.status else '?'}: its data may be stale")
