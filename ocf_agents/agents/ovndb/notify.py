"""The notify action: what each node does around another node's demote and promote.

- pre-demote: a backup connected to the promoted node records that its data is complete.
- post-demote: the backups copy the demoted node's final data (handoff.py).
- pre-promote: everyone publishes its data position for the election (election.py).
- post-promote: the others replicate from the new promoted node and withdraw any hand-off
  offer; ovn-northd stops anywhere but there.

Other notifications need nothing. Notifications always succeed; failures are logged.
"""

from __future__ import annotations

from ocf_agents.ocf.codes import OCFError, Rc
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.unixctl import UnixctlError

from . import election, handoff
from .replication import point_backups, promoted_address
from .state import read_state_patiently

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from ocf_agents.ocf.env import Notification

    from .config import Config


def notify(cfg: Config) -> int:
    n = cfg.ctx.env.notification()
    try:
        if (n.type, n.operation) == ("pre", "demote"):
            election.refresh_position(cfg)
        elif (n.type, n.operation) == ("post", "demote"):
            handoff.copy_from_demoted(cfg, n)
        elif (n.type, n.operation) == ("pre", "promote"):
            election.prepare(cfg, n)
        elif (n.type, n.operation) == ("post", "promote"):
            follow_new_promoted(cfg, n)
    except OCFError as err:
        cfg.ctx.log.warning(f"notify {n.type}-{n.operation}: {err.reason}")
    except (UnixctlError, ovsdb.OvsdbError, OSError) as err:
        cfg.ctx.log.warning(f"notify {n.type}-{n.operation}: {err}")
    return Rc.SUCCESS


def follow_new_promoted(cfg: Config, n: Notification) -> None:
    if cfg.ctx.cluster.node_name() in n.promote.unames:
        return
    state = read_state_patiently(cfg)  # else a busy server is left replicating from nowhere for good
    if not state.all_answering:
        return
    handoff.withdraw(cfg)
    if cfg.manage_northd and state.northd_running:
        cfg.stop_northd()
    if state.all_backups:
        point_backups(cfg, promoted_address(cfg, n.promote.unames[0] if n.promote.unames else None))
