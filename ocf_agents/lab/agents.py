"""Which agent runs the lab's database role: ours, OVN's shell agent, or Pacemaker's Stateful.

The issue's fail-over comparison wants the same cluster with only the agent swapped, and a
floor: what Pacemaker itself needs when it has nothing to do but promote. So the lab can run

- ``ours``: ``ocf:<provider>:ovndb-servers`` (the checkout's, by default), as always;
- ``ovn``: OVN's own ``ovndb-servers.ocf``, linked as ``ocf:ovnlab:ovndb-servers`` for the
  lab only (Debian's ``resource.d/ovn`` link points to a path that does not exist). It takes
  the same parameters as ours except ``nowhere_ip``: it sends a backup with no promoted node
  to the hard-coded 192.0.2.254, and every node has an ``unreachable`` route to that address
  (``network.py``), so the connection fails inside the node and no packet leaves;
- ``stateful``: ``ocf:pacemaker:Stateful`` in the same promotable clone, with the same
  meta attributes, monitors, VIP and constraints (built by ``ocf-agents setup``'s own
  builder, only the agent swapped). Stateful keeps no data, so each node also runs a
  standalone northbound ``ovsdb-server`` from boot, listening on the NB port: a write through
  the VIP is then acknowledged as soon as Pacemaker has promoted a node and started the VIP
  there. The clients are the same ``ovn-nbctl`` writes, so the floor's "first acknowledged
  write" is timed exactly like the agents' and the difference is the agents' own work. Those
  servers do not replicate: lost writes mean nothing for the floor and are not counted.

Every resource keeps the ids the drill knows (``ovndb_servers``, ``-clone``, ``-vip``): the
same cluster, the agent swapped.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from ocf_agents.setup.build import OvndbOptions, ovndb_setup
from ocf_agents.setup.model import Agent, Setup

from .layout import LabError
from .writer import NB_PORT

OURS, OVN, STATEFUL = "ours", "ovn", "stateful"
AGENTS = (OURS, OVN, STATEFUL)

OCF_ROOT = Path("/usr/lib/ocf")
OVN_SCRIPT = Path("/usr/share/ovn/scripts/ovndb-servers.ocf")
OVN_LAB_PROVIDER = "ovnlab"  # OVN's agent, linked for the lab only (down removes it)
OVN_LAB_AGENT_DIR = OCF_ROOT / "resource.d" / OVN_LAB_PROVIDER
# OVN's agent points a backup without a promoted node here (RFC 5737); never reachable.
OVN_NOWHERE = "192.0.2.254"
STATEFUL_AGENT = Agent("ocf", "pacemaker", "Stateful")

# The floor's stand-in for a database: one standalone northbound server per node, fresh on
# every boot (its file is on the node's /run tmpfs), listening on the NB port of any address.
FLOOR_NB_DB = "/run/ovn/floor_nb.db"
NB_SCHEMA = "/usr/share/ovn/ovn-nb.ovsschema"


def check_agent(agent: str) -> str:
    if agent not in AGENTS:
        raise LabError(f"--agent must be one of {', '.join(AGENTS)}, not {agent!r}")
    if agent == OVN and not OVN_SCRIPT.is_file():
        raise LabError(f"OVN's agent {OVN_SCRIPT} is not installed (run: make deps)")
    return agent


def replicated(agent: str) -> bool:
    """Whether the agent runs replicated OVN databases (Stateful runs none)."""
    return agent != STATEFUL


def install_ovn_agent() -> None:
    """``ocf:ovnlab:ovndb-servers``: a link to OVN's script, visible to every node."""
    OVN_LAB_AGENT_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    link = OVN_LAB_AGENT_DIR / "ovndb-servers"
    link.unlink(missing_ok=True)
    link.symlink_to(OVN_SCRIPT)


def remove_ovn_agent() -> None:
    shutil.rmtree(OVN_LAB_AGENT_DIR, ignore_errors=True)


def floor_boot_steps() -> list[list]:
    """INIT's steps (``nodes.boot_plan``) that start the floor's northbound server."""
    return [
        ["run", ["ovsdb-tool", "create", FLOOR_NB_DB, NB_SCHEMA]],
        ["spawn", ["ovsdb-server", FLOOR_NB_DB, f"--remote=ptcp:{NB_PORT}",
                   "--pidfile=/run/ovn/floor_nb.pid", "--unixctl=/run/ovn/floor_nb.ctl",
                   "--log-file=/var/log/ovn/floor_nb.log", "-vconsole:off"]],
    ]


def stateful_setup(options: OvndbOptions) -> Setup:
    """The setup ``ocf-agents setup ovndb`` builds from ``options``, with Stateful (which
    takes no parameters) in place of ovndb-servers: same clone, monitors, VIP, constraints."""
    setup = ovndb_setup(options)
    clone, *rest = setup.resources
    primitive = dataclasses.replace(clone.primitive, agent=STATEFUL_AGENT, params=())
    return dataclasses.replace(setup, resources=(dataclasses.replace(clone, primitive=primitive),
                                                 *rest))
