"""The whole lab: bring it up, take it down, look at it, and act on its nodes.

``up`` records what it is about to make in the state file before making it, so that ``down``
can always undo it; and ``down`` does not even need that file: it finds the lab's namespaces,
links and directories by their names (``layout.py``) and removes them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

import ocf_agents

from . import agents, chassis as chassis_mod, fence_device, network, nodes
from .cluster import FENCING_NOTICE, ClusterView, parse_crm_mon
from .layout import (BRIDGE, CLIENT, LAB_DIR, MAX_NODES, MIN_NODES, LabError, Node, State,
                     make_lab_dir)
from .proc import wait_until

OCF_ROOT = Path("/usr/lib/ocf")
LAB_PROVIDER = "ovshalab"  # the checkout's agents, linked for the lab only
LAB_AGENT_DIR = OCF_ROOT / "resource.d" / LAB_PROVIDER
ONLINE_TIMEOUT = 90.0


CHECKOUT = Path(ocf_agents.__file__).resolve().parent.parent  # this package's checkout


def checkout_agents(checkout: Path = CHECKOUT) -> list[Path]:
    """The agent executables of ``checkout`` (default: the one this package was imported
    from); each imports the package beside it."""
    heartbeat = checkout / "heartbeat"
    if not heartbeat.is_dir():
        return []
    return sorted(p for p in heartbeat.iterdir() if p.is_file() and os.access(p, os.X_OK))


def link_agents(directory: Path, executables: list[Path]) -> None:
    """Make ``directory`` an OCF provider directory of links to ``executables``."""
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    for agent in executables:
        link = directory / agent.name
        link.unlink(missing_ok=True)
        link.symlink_to(agent)


def install_agents(provider: str, agent: str) -> None:
    """Make the agents visible to every node's Pacemaker (the nodes share our root file
    system). The lab's own provider links the checkout's agents, so the lab always runs the
    code in front of you (down removes it); another provider must already be installed.
    OVN's agent is linked under a lab-only provider too (agents.py); our OVSPort is used
    whatever runs the database role."""
    if agent == agents.OVN:
        agents.install_ovn_agent()
    if provider != LAB_PROVIDER:
        if not (OCF_ROOT / "resource.d" / provider).is_dir():
            raise LabError(f"no agents for provider {provider} (run: make install "
                           f"PROVIDER={provider})")
        return
    link_agents(LAB_AGENT_DIR, checkout_agents())


def check_host() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts)")
    for tool in ("ip", "unshare", "nsenter", "corosync", "pacemakerd", "ovs-vswitchd",
                 "ovn-controller"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} is not installed (run: make deps)")


def is_up() -> bool:
    return (LAB_DIR.exists() or network.link_exists(BRIDGE)
            or bool(network.lab_namespaces()) or fence_device.FENCE_DIR.exists())


class Lab:
    """A lab that is up: its state plus the operations the CLI, drill and tests share."""

    def __init__(self, state: State) -> None:
        self.state = state

    @classmethod
    def load(cls) -> Lab:
        return cls(State.load())

    @property
    def nodes(self) -> list[Node]:
        return self.state.nodes

    def node(self, name: str) -> Node:
        return self.state.node(name)

    @property
    def chassis(self) -> list[chassis_mod.Chassis]:
        return chassis_mod.all_chassis(self.state.chassis_count)

    def running(self) -> list[Node]:
        return [n for n in self.nodes if nodes.init_pid(n) is not None]

    def run(self, node: Node, argv: list[str], **kwargs):
        return nodes.node_run(node, argv, **kwargs)

    def view(self, node: Node) -> ClusterView | None:
        """The cluster as ``node`` sees it, or None when its Pacemaker does not answer."""
        if nodes.init_pid(node) is None:
            return None
        proc = nodes.node_run(node, ["crm_mon", "-1", "--output-as=xml"], check=False,
                              timeout=20)
        if not proc.ok:
            return None
        try:
            return parse_crm_mon(proc.stdout)
        except ET.ParseError:
            return None

    def wait_view(self, node: Node, what: str, predicate: Callable[[ClusterView], bool],
                  timeout: float = 60.0) -> ClusterView:
        """Until ``node`` sees a cluster for which ``predicate`` holds; returns that view."""
        def check() -> ClusterView | None:
            view = self.view(node)
            return view if view is not None and predicate(view) else None
        return wait_until(what, check, timeout, 0.2)

    def wait_online(self, members: list[Node], timeout: float = ONLINE_TIMEOUT) -> None:
        """Until every node of ``members`` sees all of them online, with a DC elected."""
        names = {n.name for n in members}

        def formed() -> bool:
            for node in members:
                view = self.view(node)
                if view is None or view.dc is None or not names <= view.online:
                    return False
            return True

        wait_until(f"{', '.join(sorted(names))} online with a DC", formed, timeout, 0.5)

    # -- node operations (the CLI's verbs) -------------------------------------------------
    def start(self, *members: Node) -> None:
        """Boot the nodes, all of them before waiting: together, as ``pcs cluster start
        --all`` starts a cluster (a two-node cluster's first node waits for the other)."""
        for node in members:
            if not network.netns_exists(node.netns):
                network.create_node_network(node)
            nodes.start(node, self.state.agent)
        self.wait_online(list(members))

    def crash(self, node: Node) -> None:
        nodes.crash(node)

    def stop(self, node: Node) -> None:
        """Leave the cluster cleanly (``pcs cluster stop``), then power off."""
        nodes.shutdown(node)

    def isolate(self, node: Node) -> None:
        network.set_cut_off(node, True)

    def heal(self, node: Node) -> None:
        network.set_cut_off(node, False)

    def replace_in(self, node: Node, target: Path, source: Path | None) -> None:
        """Inside ``node`` only, ``source`` in place of the file or directory ``target``
        (bound over it in the node's own mount namespace), or ``target`` as installed again
        when ``source`` is None: a node that runs other software than the others until it
        reboots, as in a rolling upgrade (another release's agents in place of the lab's
        provider directory, another OVN schema). ``source`` must be outside /run, which
        each node has its own of."""
        if nodes.node_run(node, ["mountpoint", "-q", str(target)], check=False).ok:
            nodes.node_run(node, ["umount", str(target)])
        if source is not None:
            nodes.node_run(node, ["mount", "--bind", str(source), str(target)])

    def is_cut_off(self, node: Node) -> bool:
        return Path(f"/sys/class/net/{node.host_link}/operstate").read_text().strip() == "down"


def up(node_count: int, provider: str = LAB_PROVIDER, agent: str = agents.OURS,
       say=print, chassis_count: int = chassis_mod.DEFAULT_CHASSIS) -> Lab:
    """Bring up a lab of ``node_count`` nodes whose database role ``agent`` runs (the drill's
    bring-up creates the resources) and ``chassis_count`` chassis; on any failure (or
    Ctrl-C), undo everything."""
    if not MIN_NODES <= node_count <= MAX_NODES:
        raise LabError(f"--nodes must be {MIN_NODES} or {MAX_NODES}, not {node_count}")
    if not 0 <= chassis_count <= chassis_mod.MAX_CHASSIS:
        raise LabError(f"--chassis must be 0 to {chassis_mod.MAX_CHASSIS}, not {chassis_count}")
    agents.check_agent(agent)
    check_host()
    if is_up():
        raise LabError("a lab is still up (run: ocf-agents lab down)")
    started = time.monotonic()
    make_lab_dir()
    state = State(node_count, provider, agent, chassis_count)
    state.save()
    try:
        install_agents(provider, agent)
        fence_device.start()
        network.create_bridge()
        network.create_client_network(CLIENT)
        lab = Lab(state)
        for node in lab.nodes:
            nodes.make_disk(node, lab.nodes)
            network.create_node_network(node)
            nodes.start(node, agent)
            say(f"  {node.name}: {node.address} (netns {node.netns}), booting")
        for chassis in lab.chassis:
            chassis_mod.make(chassis)
            say(f"  {chassis.name}: {chassis.address} (netns {chassis.netns}), ovn-controller "
                f"to {chassis_mod.sb_remote()}")
        lab.wait_online(lab.nodes)
    except BaseException:
        say("lab up failed: taking down what was made")
        down(say=lambda _: None)
        raise
    say(f"lab up: {node_count} nodes online with a DC in {time.monotonic() - started:.1f}s, "
        f"database role: {agent}, {chassis_count} chassis")
    say(f"  NOTE: {FENCING_NOTICE}")
    return lab


def down(say=print) -> None:
    """Remove every process, namespace, link, directory and agent link the lab made."""
    fence_device.stop()  # first: it must not boot a node while the nodes are removed
    namespaces = network.lab_namespaces()
    for netns in namespaces:
        for pid in network.namespace_pids(netns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    wait_until("the lab's processes to exit",
               lambda: not any(_alive(p) for ns in namespaces for p in network.namespace_pids(ns)),
               timeout=20)
    network.remove_everything()
    shutil.rmtree(LAB_AGENT_DIR, ignore_errors=True)
    agents.remove_ovn_agent()
    shutil.rmtree(LAB_DIR, ignore_errors=True)
    say(f"lab down: removed {len(namespaces)} namespaces, bridge {BRIDGE}, {LAB_DIR}, "
        f"the fence device")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def status(lab: Lab, say=print) -> None:
    """Each node's state, then crm_mon as the first running node sees the cluster."""
    for node in lab.nodes:
        pid = nodes.init_pid(node)
        where = "cut off" if network.link_exists(node.host_link) and lab.is_cut_off(node) else ""
        say(f"{node.name:6} {node.address:12} "
            f"{'running (INIT pid %d)' % pid if pid else 'down':24} {where}")
    for chassis in lab.chassis:
        say(chassis_mod.status_line(chassis))
    say(f"NOTE: {FENCING_NOTICE}")
    for node in lab.running():
        proc = nodes.node_run(node, ["crm_mon", "-1"], check=False, timeout=20)
        if proc.ok:
            say(f"--- crm_mon on {node.name} ---\n{proc.stdout.rstrip()}")
            return
    say("no running node answers crm_mon")


def exec_in(node: Node, argv: list[str]) -> int:
    """``lab exec``: the command runs with our terminal; its exit status is ours."""
    return subprocess.call(nodes.exec_argv(node, argv))
