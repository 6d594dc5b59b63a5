"""ovndb-servers: OVN's northbound and southbound databases, one promoted copy in the cluster.

A drop-in replacement for OVN's own ``ocf:ovn:ovndb-servers``: the same parameters with the
same names, defaults and meanings. Each node runs two ``ovsdb-server`` processes (started and
stopped through ``ovn-ctl``, as OVN's agent does). The promoted node's servers are *active*
and take writes; the others are *backups* that replicate from ``master_ip`` (the address that
follows the promoted instance: an IPaddr2 VIP, or a load balancer).

One module per responsibility, read in this order: :mod:`.metadata` (the parameters),
:mod:`.config` (what they mean here), :mod:`.files` (the agent's own files), :mod:`.state`
(the servers as they are), :mod:`.position` (how fresh the data is), :mod:`.score`,
:mod:`.replication` (where each server replicates from), :mod:`.barrier` (data positions
the replicas can show), :mod:`.election`,
:mod:`.handoff` (a switchover's final data), then the actions: :mod:`.monitor`,
:mod:`.lifecycle` (start, stop), :mod:`.promotion` (promote, demote), :mod:`.notify`
(:mod:`.follow` without notifications). Each
action's module is imported only when that action runs: a monitor loads neither the
election, nor the hand-off, nor notifications.
"""

from __future__ import annotations

from ocf_agents.ocf.agent import Agent

from .config import Config, check_host
from .metadata import METADATA

AGENT = Agent(
    METADATA,
    handlers={
        "start": f"{__name__}.lifecycle:start",
        "stop": f"{__name__}.lifecycle:stop",
        "monitor": f"{__name__}.monitor:monitor",
        "promote": f"{__name__}.promotion:promote",
        "demote": f"{__name__}.promotion:demote",
        "notify": f"{__name__}.notify:notify",
        # Not Pacemaker's: the helpers promote (clients.py) and, without notifications, demote
        # (follow.py) start.
        "reset-clients": f"{__name__}.clients:reset_others",
        "follow-promoted": f"{__name__}.follow:follow_after_demote",
    },
    configure=Config,
    validate=check_host,
    root_actions=frozenset({"start", "stop", "promote", "demote", "reset-clients", "follow-promoted"}),
)
