"""The resources the drill's bring-up creates, and the ``ocf-agents setup`` commands that do.

Whichever agent runs the database role (``lab up --agent``), the cluster is the same: the same
resource ids, clone, monitors, VIP and OVSPort group, so that the steps and the fail-over bench
compare agents, not configurations. The setup runs inside a node, as an operator would run it.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import ocf_agents
from ocf_agents.setup.apply import ApplyError, apply
from ocf_agents.setup.build import OvndbOptions
from ocf_agents.setup.command import pcs_version
from ocf_agents.setup.render_pcs import render

from .. import agents
from ..lab import Lab
from ..layout import NOWHERE, OVNDB_VIP, OVS_BRIDGE, PORT_TABLE, PORT_VIP, LabError, Node
from ..nodes import exec_argv

OVNDB = "ovndb_servers"
OVNDB_CLONE = f"{OVNDB}-clone"
OVNDB_VIP_RSC = f"{OVNDB}-vip"
PORT_IFACE = "labport0"
PORT_RSC = f"{PORT_IFACE}-port"
PROMOTED_MONITOR_S, UNPROMOTED_MONITOR_S = 5, 7  # shorter than the defaults: a drill is short
# `ocf-agents setup ovndb` options of the database role, whichever agent runs it.
OVNDB_SETUP = {
    "master_ip": OVNDB_VIP, "vip_netmask": "24", "vip_nic": "eth0",
    "promoted_monitor_interval": str(PROMOTED_MONITOR_S),
    "monitor_interval": str(UNPROMOTED_MONITOR_S),
}
# The configurations the drill compares (docs/guide.md, "A switchover in one transition"):
# `ocf-agents setup ovndb` options beyond OVNDB_SETUP. OVN's agent runs the documented one only.
DOCUMENTED, FAST, HELD = "documented", "fast", "held"
PROFILES = {
    DOCUMENTED: ("--notify", "yes"),  # OVN's integration guide: notify=true, IPaddr2 after the promote
    FAST: ("--notify", "no"),  # no notifications: a switchover three rounds shorter
    HELD: ("--notify", "no", "--held-address"),  # and master_ip moved by demote and promote
}
DBS = ("ovnnb_db", "ovnsb_db")
# The OVSPort parameters of docs/ovsport-guide.md's shared bridge: each node has an interface
# of its own on br-lab in the port's subnet (nodes.host_interface_steps).
PORT_SHARED_BRIDGE = {"route_table": PORT_TABLE, "arp_isolation": "yes", "ipv6_autoconf": "no"}
SETUP_TIMEOUT = 180.0


def setup_argv(*args: str) -> list[str]:
    """``ocf-agents setup ...`` from this package, to run inside a node."""
    root = str(Path(ocf_agents.__file__).resolve().parent.parent)
    return ["env", f"PYTHONPATH={root}", sys.executable, "-m", "ocf_agents.cli", "setup", *args]


def ovndb_setup_argv(agent: str, provider: str, profile: str = DOCUMENTED,
                     server_probe_ms: int | None = None) -> list[str]:
    """``ocf-agents setup ovndb ... --apply`` for our agent or OVN's (same options, ovn-northd
    managed by either; ours also gets its nowhere address, OVN's has its own hard-coded
    one), in the configuration ``profile`` names (PROFILES), with the servers probing their
    clients every ``server_probe_ms`` (None: the agent's default, 5 s), the server's side of
    how long a silent client keeps its session."""
    if agent == agents.OVN and profile != DOCUMENTED:
        raise LabError(f"OVN's agent runs only the {DOCUMENTED} configuration, not {profile}")
    settings = dict(OVNDB_SETUP)
    if server_probe_ms is not None:
        settings["inactive_probe_interval"] = str(server_probe_ms)
    options = [arg for key, value in settings.items()
               for arg in (f"--{key.replace('_', '-')}", value)]
    options += PROFILES[profile]
    options.append("--manage-northd")  # ovn-northd follows the promoted node (chassis.py)
    if agent == agents.OVN:
        return setup_argv("ovndb", *options, "--provider", agents.OVN_LAB_PROVIDER, "--apply")
    return setup_argv("ovndb", *options, "--provider", provider,
                      "--param", f"nowhere_ip={NOWHERE}", "--apply")


def apply_stateful_setup(node: Node) -> None:
    """The same setup with Pacemaker's Stateful in the clone (agents.stateful_setup), applied
    by ``ocf-agents setup``'s own applier with pcs running inside ``node``."""
    def in_node(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
        return subprocess.run(exec_argv(node, list(argv)), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=SETUP_TIMEOUT, check=False)
    steps = render(agents.stateful_setup(OvndbOptions(**OVNDB_SETUP)), pcs_version(None))
    try:
        apply(steps, None, io.StringIO(), run=in_node)
    except ApplyError as err:
        raise LabError(str(err)) from None


def apply_setup(lab: Lab, node: Node, profile: str = DOCUMENTED,
                server_probe_ms: int | None = None) -> None:
    """The database role of the lab's agent with its VIP (in the configuration ``profile``
    names, its servers probing clients every ``server_probe_ms``: ovndb_setup_argv), then the
    OVSPort group, from ``node``."""
    provider = lab.state.provider
    if lab.state.agent == agents.STATEFUL:
        apply_stateful_setup(node)
    else:
        lab.run(node, ovndb_setup_argv(lab.state.agent, provider, profile, server_probe_ms),
                timeout=SETUP_TIMEOUT)
    shared_bridge = [arg for key, value in PORT_SHARED_BRIDGE.items()
                     for arg in ("--param", f"{key}={value}")]
    lab.run(node, setup_argv(
        "port", "--bridge", OVS_BRIDGE, "--interface", PORT_IFACE, "--ip", PORT_VIP,
        "--netmask", "24", *shared_bridge, "--provider", provider, "--apply"),
        timeout=SETUP_TIMEOUT)
