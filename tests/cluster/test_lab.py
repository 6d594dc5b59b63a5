"""The lab itself, with Pacemaker's own Stateful agent and IPaddr2: namespaces, a formed
cluster with fencing, a crashed node, a partitioned (and so fenced) node, and a complete
``lab down``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ocf_agents.lab import fence_device, network
from ocf_agents.lab.fence_agent import FENCE_DIR
from ocf_agents.lab.layout import BRIDGE, LAB_DIR, OVNDB_VIP, Node
from ocf_agents.lab.lab import LAB_AGENT_DIR, Lab
from ocf_agents.lab.nodes import init_pid
from ocf_agents.lab.proc import wait_until

from lab_pool import REPO, LabPool, ocf_agents_cli

STATEFUL = "st"
VIP = "st-vip"


@pytest.fixture
def lab3(lab_pool: LabPool) -> Lab:
    return lab_pool.get(3)


def pcs(lab: Lab, *args: str) -> None:
    lab.run(lab.running()[0], ["pcs", *args])


def addresses(netns: str) -> str:
    return network.ip("-4", "-o", "addr", "show", netns=netns)


@pytest.fixture
def stateful(lab3: Lab):
    """A promotable Stateful clone with a VIP on the promoted node, removed afterwards."""
    pcs(lab3, "resource", "create", STATEFUL, "ocf:pacemaker:Stateful", "promotable")
    pcs(lab3, "resource", "create", VIP, "ocf:heartbeat:IPaddr2", f"ip={OVNDB_VIP}",
        "cidr_netmask=24", "nic=eth0")
    pcs(lab3, "constraint", "colocation", "add", VIP, "with", "Promoted", f"{STATEFUL}-clone")
    pcs(lab3, "constraint", "order", "promote", f"{STATEFUL}-clone", "then", "start", VIP)
    view = lab3.wait_view(lab3.nodes[0], "Stateful promoted with its VIP",
                          lambda v: len(v.promoted(STATEFUL)) == 1 and v.nodes_with(VIP)
                          == v.promoted(STATEFUL) and len(v.nodes_with(STATEFUL)) == 3)
    yield lab3, lab3.node(view.promoted(STATEFUL)[0])
    for node in lab3.nodes:
        lab3.heal(node)
        if init_pid(node) is None:
            lab3.start(node)
    pcs(lab3, "resource", "delete", VIP)
    pcs(lab3, "resource", "delete", STATEFUL)
    lab3.wait_view(lab3.nodes[0], "no resources left", lambda v: not v.placements)


def test_up_refuses_to_start_over_a_lab_that_is_up(lab3: Lab) -> None:
    result = ocf_agents_cli("lab", "up", "--nodes", "2", check=False)
    assert result.returncode == 1
    assert "still up" in result.stderr
    assert lab3.view(lab3.nodes[0]).online == {n.name for n in lab3.nodes}


def test_each_node_has_its_own_namespaces_and_disk(lab3: Lab) -> None:
    for node in lab3.nodes:
        assert lab3.run(node, ["hostname"]).stdout.strip() == node.name
        assert b"ocf_agents.lab.init" in Path(f"/proc/{init_pid(node)}/cmdline").read_bytes()
        assert "ocf_agents.lab.init" in lab3.run(node, ["cat", "/proc/1/cmdline"]).stdout
        # A /run of its own: a tmpfs on top (listed last: the /run under it may be a tmpfs too,
        # as in the Debian 13 tier's root), hiding the lab's directory in the /run below.
        assert lab3.run(node, ["findmnt", "-n", "-o", "FSTYPE", "/run"]).stdout.split()[-1] == "tmpfs"
        assert not lab3.run(node, ["test", "-e", str(LAB_DIR)], check=False).ok
        # Its disk: the node's directory is what it sees at /var/lib/pacemaker (the same inode;
        # findmnt's SOURCE names it relative to /run when /run is a tmpfs, as in Debian 13's tier).
        inode = lab3.run(node, ["stat", "-c", "%i", "/var/lib/pacemaker"]).stdout.strip()
        assert inode == str((node.dir / "pacemaker").stat().st_ino)
        assert f"inet {node.address}/24" in addresses(node.netns)
    root_addresses = network.ip("-4", "-o", "addr", "show")
    assert "10.99.0." not in root_addresses
    assert BRIDGE not in root_addresses


def test_cluster_is_formed_with_fencing_and_says_so(lab3: Lab) -> None:
    view = lab3.view(lab3.nodes[1])
    assert view.online == {n.name for n in lab3.nodes} and view.dc is not None
    stonith = lab3.run(lab3.nodes[0], ["crm_attribute", "--type", "crm_config", "--name",
                                       "stonith-enabled", "--query", "--quiet"]).stdout
    assert stonith.strip() == "true"
    status = ocf_agents_cli("lab", "status")
    assert "fencing is ON" in status.stdout
    assert "Online: [ node1 node2 node3 ]" in status.stdout


def test_exec_returns_the_commands_exit_status(lab3: Lab) -> None:
    assert ocf_agents_cli("lab", "exec", "node2", "false", check=False).returncode == 1
    unknown = ocf_agents_cli("lab", "exec", "node9", "true", check=False)
    assert unknown.returncode == 1 and "no node 'node9'" in unknown.stderr


def test_crashed_promoted_node_fails_over_and_rejoins(stateful) -> None:
    lab, promoted = stateful
    ocf_agents_cli("lab", "crash", promoted.name)
    survivor = next(n for n in lab.nodes if n != promoted)
    # Until the node is fenced, crm_mon still lists its instances (on an UNCLEAN node).
    view = lab.wait_view(survivor, "a surviving node promoted with the VIP",
                         lambda v: promoted.name not in v.online
                         and len(v.promoted(STATEFUL)) == 1
                         and v.promoted(STATEFUL) != [promoted.name]
                         and v.nodes_with(VIP) == v.promoted(STATEFUL))
    assert OVNDB_VIP not in addresses(promoted.netns)  # the address died with the node
    new_netns = lab.node(view.promoted(STATEFUL)[0]).netns
    wait_until("the VIP on the new promoted node", lambda: OVNDB_VIP in addresses(new_netns), 10)

    ocf_agents_cli("lab", "start", promoted.name)
    lab.wait_view(survivor, f"{promoted.name} back as an unpromoted instance",
                  lambda v: promoted.name in v.nodes_with(STATEFUL, "Unpromoted"))


def test_partitioned_promoted_node_is_fenced_and_majority_promotes(stateful) -> None:
    lab, promoted = stateful
    majority = [n for n in lab.nodes if n != promoted]
    ocf_agents_cli("lab", "isolate", promoted.name)
    view = lab.wait_view(majority[0], "the majority to promote another node",
                         lambda v: len(v.promoted(STATEFUL)) == 1
                         and promoted.name not in v.online
                         and v.promoted(STATEFUL) != [promoted.name]
                         and v.nodes_with(VIP) == v.promoted(STATEFUL))
    assert view.promoted(STATEFUL)[0] in {n.name for n in majority}
    assert init_pid(promoted) is None  # fenced (powered off) before the promotion
    assert OVNDB_VIP not in addresses(promoted.netns)

    ocf_agents_cli("lab", "heal", promoted.name)
    ocf_agents_cli("lab", "start", promoted.name)
    healed = lab.wait_view(majority[0], f"{promoted.name} to rejoin unpromoted",
                           lambda v: promoted.name in v.nodes_with(STATEFUL, "Unpromoted"))
    assert healed.promoted(STATEFUL) == view.promoted(STATEFUL)


PRIVATE_ATTRIBUTE = "ocfa-test-private"
# The library's helpers, run inside a node: "set VALUE" on this node, or "get NODE".
PRIVATE_ATTRIBUTE_CALL = """
import sys
from ocf_agents.ocf.cluster import Cluster
from ocf_agents.ocf.env import Environment
from ocf_agents.ocf.log import Logger
from ocf_agents.ocf.run import Budget, Runner

cluster = Cluster(Runner(Budget(30), Logger({}, "t")), Environment({"OCF_RESOURCE_INSTANCE": "rsc"}))
verb, arg = sys.argv[1:]
if verb == "set":
    cluster.set_private_attribute(NAME, arg)
else:
    print(cluster.private_attribute(NAME, node=arg))
""".replace("NAME", repr(PRIVATE_ATTRIBUTE))


def private_attribute_call(lab: Lab, node: Node, verb: str, arg: str) -> str:
    return lab.run(node, ["env", f"PYTHONPATH={REPO}", sys.executable, "-c", PRIVATE_ATTRIBUTE_CALL,
                          verb, arg]).stdout.strip()


def test_private_attributes_are_shared_through_attrd_and_never_reach_the_cib(lab3: Lab) -> None:
    """What ovndb-servers' election relies on: a value one node writes, the others read, and
    no transition is aborted by it because the CIB never holds it."""
    writer, reader = lab3.nodes[0], lab3.nodes[1]
    assert private_attribute_call(lab3, reader, "get", writer.name) == "None"
    private_attribute_call(lab3, writer, "set", "1234 7000")
    wait_until("the value to reach the other node",
               lambda: private_attribute_call(lab3, reader, "get", writer.name) == "1234 7000", 10)
    assert private_attribute_call(lab3, writer, "get", reader.name) == "None"
    for node in lab3.nodes:
        assert PRIVATE_ATTRIBUTE not in lab3.run(node, ["cibadmin", "--query"]).stdout


def lab_processes() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and b"ocf_agents.lab.init" in Path(
                    f"/proc/{entry}/cmdline").read_bytes():
                pids.append(int(entry))
        except FileNotFoundError:
            pass
    return pids


def test_two_node_lab_down_removes_everything_even_without_state(lab_pool: LabPool) -> None:
    lab = lab_pool.get(2)
    assert lab.view(lab.nodes[0]).online == {"node1", "node2"}
    Node(1).init_pid_file.unlink()  # as if up had failed half-way...
    (LAB_DIR / "state.json").unlink()  # ...and had no time to record anything
    fence_device.FENCE_PID_FILE.unlink()

    ocf_agents_cli("lab", "down")
    lab_pool.lab = None
    assert network.lab_namespaces() == []
    assert network.lab_links() == []
    assert not LAB_DIR.exists()
    assert not LAB_AGENT_DIR.exists()
    assert lab_processes() == []
    # the fence device too, found without its PID file, and the agent
    assert not FENCE_DIR.exists() and not os.path.lexists(fence_device.AGENT_PATH)
    assert fence_device.device_pids() == []
