"""OVN's clustered (RAFT) databases on the lab's nodes, as bench/raft.py runs them: both clusters
form on the three nodes, the chassis point at the southbound members, a leader transfer moves
the northbound leadership and loses nothing written through the three members, and the
servers go with the lab."""

from __future__ import annotations

from pathlib import Path

from ocf_agents.lab import network
from ocf_agents.lab.lab import Lab
from ocf_agents.lab.proc import run
from ocf_agents.lab.raft import DATABASES, SB, RaftCluster
from ocf_agents.lab.writer import in_client_netns, switches_in_nb

from lab_pool import LabPool


def raft_servers(lab: Lab) -> dict[int, bytes]:
    """The root-namespace PIDs of the clustered servers in the lab's nodes, with their
    command lines (to tell a PID reused later from the server)."""
    found = {}
    for node in lab.nodes:
        for pid in network.namespace_pids(node.netns):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if cmdline.startswith(b"ovsdb-server") and any(
                    f"ovn{db.short}_db.db".encode() in cmdline for db in DATABASES):
                found[pid] = cmdline
    return found


def still_running(servers: dict[int, bytes]) -> list[int]:
    running = []
    for pid, cmdline in servers.items():
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == cmdline:
                running.append(pid)
        except FileNotFoundError:
            pass
    return running


def write(remote: str, switch: str) -> None:
    """One logical switch written from the client namespace through ``remote``."""
    run(in_client_netns(["ovn-nbctl", f"--db={remote}", "--timeout=20", "ls-add", switch]), timeout=30)


def test_a_raft_cluster_forms_moves_its_leader_and_goes_with_the_lab(lab_pool: LabPool) -> None:
    lab_pool.drop()  # a lab of its own: the clustered servers take the database ports
    lab = lab_pool.get(3)
    cluster = RaftCluster(lab)
    try:
        cluster.start()
        leader = cluster.wait_formed()
        servers = raft_servers(lab)
        members = {(n.name, db.short) for n in lab.nodes for db in DATABASES
                   if (status := cluster.status(n, db)) and status.status == "cluster member"}
        assert len(members) == 6, members
        for chassis in lab.chassis:
            remote = lab.run(chassis, ["ovs-vsctl", "get", "Open_vSwitch", ".",
                                       "external_ids:ovn-remote"]).stdout.strip().strip('"')
            assert remote == SB.remote(lab.nodes)

        write(cluster.nb_remote, "before-transfer")
        term = cluster.status(leader).term
        cluster.transfer(leader)
        new_leader, _ = cluster.wait_leader(other_than=leader)
        write(cluster.nb_remote, "after-transfer")

        statuses = {n.name: cluster.status(n) for n in lab.nodes}
        assert [name for name, s in statuses.items() if s.role == "leader"] == [new_leader.name]
        assert statuses[new_leader.name].term > term
        assert {"before-transfer", "after-transfer"} <= (switches_in_nb(cluster.nb_remote) or set())
    finally:
        lab_pool.drop()
    assert servers and not still_running(servers)
