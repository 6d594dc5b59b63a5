"""OVSPort: an Open vSwitch internal port that moves between hosts with its MAC address.

Used with IPaddr2, so that a fail-over IP address keeps its MAC address and no neighbour's
ARP cache or switch's forwarding table has to be corrected. The port carries the same MAC on
every node: the ``mac`` parameter, or one derived from the resource's name and the interface.

One module per responsibility: :mod:`.metadata` (the parameters), :mod:`.config` (what they
mean here, and the host's checks), :mod:`.actions` (start, stop, monitor, validate-all) and
:mod:`.shared` (a port on a bridge shared with another interface in its subnet: its ARP and
IPv6 settings, the source-based routing of its addresses).
"""

from __future__ import annotations

from ocf_agents.ocf.agent import Agent

from .actions import monitor, start, stop, validate_all
from .config import Config, check_programs
from .metadata import METADATA

AGENT = Agent(
    METADATA,
    handlers={"start": start, "stop": stop, "monitor": monitor, "validate-all": validate_all},
    validate=check_programs,
    root_actions=frozenset({"start", "stop"}),
    configure=Config,
)
