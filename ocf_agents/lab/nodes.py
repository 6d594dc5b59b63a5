"""One lab node: its "disk", its boot plan, starting it, crashing it, running tools in it.

A node is a network namespace (``network.py``) plus a process tree in its own mount, UTS and
PID namespaces under ``init.py``. The node's persistent directories live in its directory
under /run/ocf-agents-lab (its "disk", kept across crashes like a real disk) and are bound over
the system paths inside the node's mount namespace; /run and /dev/shm are fresh tmpfs on every
boot, as after a real reboot.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import signal
import subprocess
import sys
from pathlib import Path

import ocf_agents

from .agents import STATEFUL, floor_boot_steps
from .cluster import corosync_conf, seed_cib
from .layout import (HOST_IFACE, HOST_ROUTE_METRIC, OVS_BRIDGE, PREFIX_LEN, UPLINK, LabError,
                     Node)
from .network import OWN_INTERFACE_ARP, create_node_network, link_sysctls, remove_node_network, set_cut_off
from .proc import Result, run, wait_until

# node directory -> where it is bound inside the node, and its owner.
DISK = {
    "pacemaker": ("/var/lib/pacemaker", "hacluster"),
    "corosync": ("/var/lib/corosync", "root"),
    "log": ("/var/log/pacemaker", "hacluster"),
    "etc-corosync": ("/etc/corosync", "root"),
    "etc-openvswitch": ("/etc/openvswitch", "root"),
    "openvswitch": ("/var/lib/openvswitch", "root"),
    "log-openvswitch": ("/var/log/openvswitch", "root"),
    "etc-ovn": ("/etc/ovn", "root"),
    "ovn": ("/var/lib/ovn", "root"),
    "log-ovn": ("/var/log/ovn", "root"),
}
PACEMAKER_SUBDIRS = ("cib", "pengine", "blackbox", "cores")
# Fresh on every boot: (path, mode, owner, group), made after /run is mounted.
RUN_DIRS = (
    ("/run/crm", "0750", "hacluster", "haclient"),
    ("/run/lock", "1777", "root", "root"),
    ("/run/openvswitch", "0755", "root", "root"),
    ("/run/ovn", "0755", "root", "root"),
    ("/run/resource-agents", "0755", "root", "root"),
)
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
BOOT_TIMEOUT = 60.0
OVSDB_SOCK = "unix:/run/openvswitch/db.sock"
SHUTDOWN_ORDER = ("pacemakerd", "corosync")  # INIT's daemons that leave the cluster cleanly
SHUTDOWN_TIMEOUT = 180.0  # Pacemaker stops the node's resources first (stop timeouts: 60 s)


def _owned_dir(path: Path, owner: str, mode: int = 0o750) -> None:
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    group = "haclient" if owner == "hacluster" else "root"
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)


def make_disk(node: Node, members: list[Node], seeded: bool = True) -> None:
    """Create the node's persistent directories and first-boot files: the CIB ``lab up``
    seeds, or none for a node added to a running cluster (``seeded`` false), which takes the
    cluster's CIB from the DC as it joins, as a node ``pcs cluster node add`` made does."""
    make_ovs_disk(node, DISK)
    for sub in PACEMAKER_SUBDIRS:
        _owned_dir(node.dir / "pacemaker" / sub, "hacluster")
    write_corosync_conf(node, members)
    if seeded:
        seed_cib(node.dir / "pacemaker" / "cib" / "cib.xml", len(members))


def write_corosync_conf(node: Node, members: list[Node]) -> None:
    """The node's corosync.conf for a cluster of ``members`` (read by Corosync at its start
    and at ``corosync-cfgtool -R``)."""
    (node.dir / "etc-corosync" / "corosync.conf").write_text(corosync_conf(members))


def make_ovs_disk(node: Node, disk: dict[str, tuple[str, str]]) -> None:
    """The directories of ``disk`` under the node's directory and an empty Open_vSwitch
    database: what every lab machine (a node or a chassis) boots from."""
    node.dir.mkdir(mode=0o700)
    for sub, (_, owner) in disk.items():
        _owned_dir(node.dir / sub, owner, 0o770 if sub == "log" else 0o750)
    run(["ovsdb-tool", "create", node.dir / "etc-openvswitch" / "conf.db", OVS_SCHEMA])


def boot_plan(node: Node, agent: str) -> dict:
    """What the node's INIT does, in order (see init.py); a lab of ``agent`` stateful also
    starts the floor's northbound server (agents.py)."""
    return machine_plan(node, DISK, [
        *ovs_boot_steps(),
        # The bridge the OVSPort resources go on, uplinked to the lab network.
        ["run", ["ovs-vsctl", "--timeout=20", "--may-exist", "add-br", OVS_BRIDGE,
                 "--", "set", "bridge", OVS_BRIDGE, "datapath_type=netdev",
                 "--", "--may-exist", "add-port", OVS_BRIDGE, UPLINK]],
        *host_interface_steps(node),
        ["spawn", ["corosync", "-f"]],
        ["wait", ["corosync-cfgtool", "-s"], 20],
        *(floor_boot_steps() if agent == STATEFUL else []),
        ["spawn", ["pacemakerd"]],
    ])


def machine_plan(node: Node, disk: dict[str, tuple[str, str]], steps: list[list]) -> dict:
    """A boot plan (init.py): ``disk`` bound over the system paths, fresh /run and /dev/shm,
    the host name, then ``steps``; shared by nodes and chassis so that both boot alike."""
    return {
        "hostname": node.name,
        "pid_file": str(node.init_pid_file),
        "binds": [[str(node.dir / sub), target] for sub, (target, _) in disk.items()],
        "tmpfs": [["/run", "mode=0755"], ["/dev/shm", "mode=1777"]],
        "dirs": [list(d) for d in RUN_DIRS],
        "env": {"PCMK_logfile": "/var/log/pacemaker/pacemaker.log",
                "PCMK_logfacility": "none"},
        "steps": steps,
    }


def ovs_boot_steps() -> list[list]:
    """INIT's steps that start Open vSwitch: its database (initialised), then ovs-vswitchd,
    each logging to /var/log/openvswitch and nothing on INIT's console."""
    ovs_log = "--log-file=/var/log/openvswitch/{}.log"
    return [
        ["spawn", ["ovsdb-server", "/etc/openvswitch/conf.db",
                   "--remote=punix:/run/openvswitch/db.sock",
                   "--pidfile=/run/openvswitch/ovsdb-server.pid",
                   ovs_log.format("ovsdb-server"), "-vconsole:off"]],
        ["wait", ["ovs-vsctl", "--no-wait", "show"], 20],
        ["run", ["ovs-vsctl", "--no-wait", "init"]],
        ["spawn", ["ovs-vswitchd", OVSDB_SOCK, "--pidfile=/run/openvswitch/ovs-vswitchd.pid",
                   ovs_log.format("ovs-vswitchd"), "-vconsole:off"]],
    ]


def host_interface_steps(node: Node) -> list[list]:
    """INIT's steps that give the node an interface of its own on br-lab, in the OVSPort
    resource's subnet (docs/ovsport-guide.md's shared bridge), with the host settings the
    guide asks of such an interface. Its route to the subnet comes after eth0's, so the
    node's own traffic (Corosync, replication) keeps to eth0."""
    return [
        ["run", ["ovs-vsctl", "--timeout=20", "--may-exist", "add-port", OVS_BRIDGE, HOST_IFACE,
                 "--", "set", "interface", HOST_IFACE, "type=internal"]],
        ["wait", ["ip", "link", "show", HOST_IFACE], 20],  # created by ovs-vswitchd
        ["run", ["sysctl", "-q", "-w", *link_sysctls(HOST_IFACE, OWN_INTERFACE_ARP)]],
        ["run", ["ip", "addr", "replace", f"{node.host_iface_address}/{PREFIX_LEN}",
                 "dev", HOST_IFACE, "metric", HOST_ROUTE_METRIC]],
        ["run", ["ip", "link", "set", HOST_IFACE, "up"]],
    ]


def init_pid(node: Node) -> int | None:
    """The root-namespace PID of the node's INIT, if the node is running."""
    try:
        pid = int(node.init_pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid if b"ocf_agents.lab.init" in cmdline and state != "Z" else None


def start(node: Node, agent: str) -> int:
    """Boot the node (its network namespace must exist) for a lab of ``agent``; returns
    INIT's PID.

    Returns once INIT wrote its PID; the caller waits for the services it needs.
    """
    return boot(node, boot_plan(node, agent))


def boot(node: Node, plan: dict) -> int:
    """Start INIT with ``plan`` in the node's network namespace (which must exist); returns
    INIT's PID once INIT wrote it."""
    if init_pid(node) is not None:
        raise LabError(f"{node.name} is already running")
    plan_file = node.dir / "boot.json"
    plan_file.write_text(json.dumps(plan, indent=1))
    node.init_pid_file.unlink(missing_ok=True)
    package_root = str(Path(ocf_agents.__file__).resolve().parent.parent)
    with open(node.init_log, "ab") as log:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", node.netns, "unshare", "--mount", "--uts", "--pid",
             "--fork", "--propagation", "private", sys.executable, "-m", "ocf_agents.lab.init",
             str(plan_file)],
            env={**os.environ, "PYTHONPATH": package_root}, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd="/",
        )

    def started() -> int | None:
        if proc.poll() is not None:
            raise LabError(f"{node.name} failed to boot: {tail(node.init_log)}")
        return init_pid(node)

    return wait_until(f"{node.name}'s INIT", started, timeout=10)


def kill(node: Node) -> None:
    """SIGKILL the node's INIT: its whole PID namespace dies at once, as in a power cut."""
    pid = init_pid(node)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        wait_until(f"{node.name} to die", lambda: init_pid(node) is None, timeout=10)


def daemon_pid(node: Node, name: str) -> int | None:
    """The root-namespace PID of the daemon INIT started as ``name`` (one of its children),
    None when it does not run."""
    pid = init_pid(node)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if pid else []
    except OSError:
        return None
    for child in children:
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == name:
                return int(child)
        except OSError:
            continue
    return None


def shutdown(node: Node) -> None:
    """Stop Pacemaker, then Corosync, as ``pcs cluster stop`` does (SIGTERM, as systemd
    sends, each waited for): Pacemaker first stops or moves the node's resources, and the
    others see the node leave, so that nobody fences it. Then power the node off
    (:func:`crash`: what is left, its OVS among it, dies with INIT)."""
    for daemon in SHUTDOWN_ORDER:
        pid = daemon_pid(node, daemon)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_until(f"{daemon} on {node.name} to exit", lambda: daemon_pid(node, daemon) != pid,
                       SHUTDOWN_TIMEOUT)
    crash(node)


def crash(node: Node) -> None:
    """Power the node off: cut its links, kill it, then give it a fresh network namespace, so
    that no address it held (a VIP) outlives it. The links go first: killed processes have
    their sockets closed by a kernel that lives on, which sends their peers a FIN or a reset,
    and a host that loses power sends nothing (its clients find out by themselves)."""
    set_cut_off(node, True)
    kill(node)
    remove_node_network(node)
    create_node_network(node)


def exec_argv(node: Node, argv: list[str]) -> list[str]:
    """``argv`` run inside the node's network, mount, UTS and PID namespaces, with INIT's root
    and working directories (-r -w): entering a mount namespace otherwise puts a process at
    the namespace's real root, which is another system's when the lab runs chrooted (the
    Debian 13 tier: the host's crm_mon then looked for the node's pacemakerd and failed)."""
    pid = init_pid(node)
    if pid is None:
        raise LabError(f"{node.name} is not running (ocf-agents lab start {node.name})")
    return ["nsenter", "-t", str(pid), "-n", "-m", "-u", "-p", "-r", "-w", "--", *argv]


def node_run(node: Node, argv: list[str], *, check: bool = True, timeout: float = 60.0,
             input: str | None = None) -> Result:
    return run(exec_argv(node, argv), check=check, timeout=timeout, input=input)


def tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no {path})"

