"""``OVN_REPL_INFO``: the cluster property naming the promoted node, kept where OVN's agent
keeps it, so that a cluster migrating from that agent finds it there.

Written by the promoted node's monitor, never by the promote: a configuration change while
Pacemaker runs a transition aborts it, and the switchover's last step (the VIP's start) would
wait for a new one (docs/guide.md, "A switchover in one transition"). The first monitor
after a promote is still part of the promote's transition (Pacemaker starts the recurring
monitor in it), so the one after it writes the property: at most one promoted monitor
interval after the promotion.
"""

from __future__ import annotations

from ocf_agents.ocf.cluster import ClusterUnreachable

TYPE_CHECKING = False  # typing is for the type checker only: every action would import it
if TYPE_CHECKING:
    from .config import Config

NAME = "OVN_REPL_INFO"
# The property set OVN's agent keeps it in: with a second copy in another set crm_attribute
# refuses to choose.
PROPERTY_SET = "ovn_ovsdb_master_server"
# What the record file holds between the promote and the monitor that writes the property;
# afterwards it holds the node name written.
SKIP_ONE = "after-the-next-monitor"
DUE = "due"


def after_promote(cfg: Config) -> None:
    """The promote's part: the property is due after the promote's own transition."""
    cfg.files.repl_info.write(SKIP_ONE)


def record(cfg: Config) -> None:
    """The promoted monitor's part: write the property once it is due and does not name this
    node yet (one read of the CIB per promotion). A monitor does not fail for it: the next
    one tries again."""
    me = cfg.ctx.cluster.node_name()
    written = cfg.files.repl_info.read()
    if written == me:
        return
    if written == SKIP_ONE:
        cfg.files.repl_info.write(DUE)
        return
    cluster = cfg.ctx.cluster
    try:
        if cluster.cluster_property(NAME, set_id=PROPERTY_SET) != me:
            cluster.set_cluster_property(NAME, me, set_id=PROPERTY_SET)
    except ClusterUnreachable as err:
        cfg.ctx.log.warning(f"{err.reason}; {NAME} is written at the next monitor")
        return
    cfg.files.repl_info.write(me)
