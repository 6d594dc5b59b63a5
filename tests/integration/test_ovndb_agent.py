"""ovndb-servers against real ovsdb-servers started through ovn-ctl, driven as Pacemaker does.

Each test builds its own "nodes" (a loopback address and a set of ovn-ctl directories each,
see ovndb_harness.py) and tears them down, killing every process by PID, even on failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from ocf_agents.ovs import jsonrpc
from ocf_agents.ovs.ovsdb import databases, make_backup, parse_sync_status, sync_status
from ovndb_harness import NB_PORT, NOWHERE, RESOURCE, SB_PORT, Lab, Node, Result, have_ovn, wait_for

pytestmark = [
    pytest.mark.skipif(not have_ovn(), reason="needs ovsdb-server, ovn-ctl, ovn-nbctl and crm_attribute"),
    pytest.mark.skipif(os.geteuid() != 0, reason="ovn-ctl and the agent's start/stop need root"),
]

MONITOR = {"interval_ms": 10000}


@pytest.fixture
def lab2():
    lab = Lab(2)
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def lab3():
    lab = Lab(3)
    try:
        yield lab
    finally:
        lab.close()


def start_all(lab: Lab, *nodes: Node) -> None:
    for node in nodes:
        res = node.run("start")
        assert res.rc == 0, res


def promoted_pair(lab: Lab) -> tuple[Node, Node]:
    """node1 promoted, node2 replicating from it."""
    a, b = lab.nodes[:2]
    start_all(lab, a, b)
    assert lab.promote(a, [b]).rc == 0
    wait_for("node2 to replicate", lambda: b.run("monitor", master_ip=a.addr, **MONITOR).rc == 0
             and b.score() == "10")
    return a, b


# -- bring-up, monitor, stop ---------------------------------------------------------------
def test_start_brings_both_databases_up_as_backups_and_is_idempotent(lab2):
    a, _ = lab2.nodes
    assert a.run("monitor").rc == 7
    assert a.run("start").rc == 0
    assert a.roles() == ("backup", "backup")
    assert a.run("monitor", **MONITOR).rc == 0
    assert a.run("start").rc == 0
    assert a.score() == "1"  # waiting on nowhere: not replicating, not the last promoted


def test_start_of_a_running_backup_follows_the_promoted_node(lab2):
    a, b = lab2.nodes
    start_all(lab2, a, b)
    assert a.run("promote", master_ip=a.addr).rc == 0
    a.nbctl("ls-add", "seen-by-b")
    joining = lab2.notify_vars("pre", "start", start=[b], active=[a], promoted=[a])
    assert b.run("start", notify=joining, master_ip=a.addr).rc == 0
    wait_for("b to replicate", lambda: "seen-by-b" in b.switches())
    assert b.score() == "10"


def test_stop_stops_everything_deletes_the_score_and_always_succeeds(lab2):
    a, b = promoted_pair(lab2)
    for node in (a, b):
        assert node.run("stop").rc == 0
        assert node.roles() == ("down", "down")
        assert node.processes() == []
        assert node.score() is None
        assert node.run("stop").rc == 0
        assert node.run("monitor").rc == 7


# -- promote, demote, notify ---------------------------------------------------------------
def test_promote_is_synchronous_and_writes_connection_rows(lab2):
    a, b = lab2.nodes
    start_all(lab2, a, b)
    res = a.run("promote", master_ip=a.addr, inactive_probe_interval="7000")
    assert res.rc == 0, res
    a.nbctl("ls-add", "first-write")  # at once: promote returned only when writes are accepted
    assert a.roles() == ("active", "active")
    assert a.run("monitor", **MONITOR).rc == 8
    assert a.score() == "10"
    assert a.nbctl("--bare", "--columns=target,inactivity_probe", "list", "Connection").split() == \
        [f'ptcp:6641:{a.addr}', "7000"]
    assert a.sbctl("--bare", "--columns=target", "list", "Connection") == f"ptcp:6642:{a.addr}"
    assert a.run("promote", master_ip=a.addr).rc == 0  # already promoted: success, recorded again
    assert a.score() == "10"


def test_backup_follows_the_new_promoted_node_and_scores_as_replicating(lab2):
    a, b = promoted_pair(lab2)
    a.nbctl("ls-add", "sw0")
    wait_for("the write to replicate", lambda: "sw0" in b.switches())
    assert b.nbctl("ls-add", "refused", check=False) == ""  # backups are read-only
    assert "refused" not in b.switches()


def test_demote_keeps_the_data_as_backups(lab2):
    a, b = promoted_pair(lab2)
    a.nbctl("ls-add", "kept")
    assert a.run("demote", master_ip=a.addr).rc == 0
    assert a.roles() == ("backup", "backup")
    assert "kept" in a.switches()
    assert a.run("monitor", **MONITOR).rc == 0
    assert a.score() == "10"  # it was promoted: its data is the freshest


def cib_writes_traced(node: Node, since: int) -> list[str]:
    """The agent's CIB writes traced on ``node`` (OCF_TRACE_RA) after byte ``since`` of its
    log: a promotion score or a cluster property set (``-v``) or deleted (``-D``) through
    crm_attribute. Not the private attributes, which the agent writes with crm_attribute only
    against a CIB file (on a live cluster attrd_updater -p keeps them out of the CIB)."""
    text = (node.root / "agent.log").read_bytes()[since:].decode(errors="replace")
    commands = re.findall(r"trace: \+\d+ms (.*?) -> ", text)
    return [argv for argv in commands if argv.startswith("crm_attribute ") and "-private " not in argv
            and any(f" {flag} " in argv + " " for flag in ("-v", "-D"))]


def repl_info(node: Node) -> str | None:
    proc = subprocess.run(["crm_attribute", "-t", "crm_config", "-n", "OVN_REPL_INFO", "-s",
                           "ovn_ovsdb_master_server", "-G", "-q"],
                          env=dict(os.environ, CIB_file=str(node.cib)), capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def test_a_planned_switchover_writes_nothing_into_the_cib(lab2):
    """Demote, promote and the notifications of a switchover between two replicating nodes
    write no promotion score and no cluster property: on a live cluster each write aborts the
    transition, and the VIP's start waits for another (issue 25). The scores are already
    right: a replicating backup scores as the promoted node does."""
    a, b = promoted_pair(lab2)
    assert a.run("monitor", **MONITOR).rc == 8
    assert (a.score(), b.score()) == ("10", "10")
    since = {node.name: (node.root / "agent.log").stat().st_size for node in (a, b)}
    for node in (a, b):
        node.environ["OCF_TRACE_RA"] = "1"
    assert lab2.promote(b, [], old=a).rc == 0
    assert b.roles() == ("active", "active") and a.roles() == ("backup", "backup")
    traced = (a.root / "agent.log").read_bytes()[since[a.name]:].decode(errors="replace")
    assert re.search(r"trace: \+\d+ms crm_attribute ", traced)  # the commands are traced
    assert {node.name: cib_writes_traced(node, since[node.name]) for node in (a, b)} == {a.name: [], b.name: []}
    assert (a.score(), b.score()) == ("10", "10")


def test_the_promoted_monitor_after_the_promotes_own_transition_writes_ovn_repl_info(lab2):
    """OVN_REPL_INFO names the promoted node, as OVN's agent keeps it, but is written neither
    by the promote nor by the first monitor after it (both run in the promote's transition):
    by the next one."""
    a, b = promoted_pair(lab2)
    assert repl_info(a) is None
    assert a.run("monitor", **MONITOR).rc == 8  # the first: Pacemaker starts it in the transition
    assert repl_info(a) is None
    assert a.run("monitor", **MONITOR).rc == 8
    assert repl_info(a) == a.name
    assert lab2.promote(b, [], old=a).rc == 0
    for _ in range(2):
        assert b.run("monitor", master_ip=b.addr, **MONITOR).rc == 8
    assert repl_info(b) == b.name


def test_planned_switchover_with_a_writer_loses_no_acknowledged_write(lab2):
    a, b = promoted_pair(lab2)
    acked: list[str] = []
    target = [a]
    done = threading.Event()

    def writer() -> None:
        i = 0
        while not done.is_set():
            name = f"w{i}"
            i += 1
            proc = subprocess.run(["ovn-nbctl", f"--db=unix:{target[0].rundir}/ovnnb_db.sock", "--timeout=5",
                                   "ls-add", name], capture_output=True)
            if proc.returncode == 0:
                acked.append(name)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for("a few writes", lambda: len(acked) > 20)
        res = lab2.promote(b, [], old=a)
        assert res.rc == 0, res
        target[0] = b
        before = len(acked)
        wait_for("writes on the new promoted node", lambda: len(acked) > before + 5)
    finally:
        done.set()
        thread.join()
    assert b.roles() == ("active", "active") and a.roles() == ("backup", "backup")
    missing = [name for name in acked if name not in b.switches()]
    assert missing == []
    wait_for("the old promoted node to replicate", lambda: set(acked) <= a.switches())


def test_planned_switchover_proves_the_final_data_by_the_barrier_without_a_copy(lab2):
    """The demoted node commits a barrier before turning read-only; the successor finds it
    in its own copy (same session, commit order) and promotes without copying anything."""
    a, b = promoted_pair(lab2)
    a.nbctl("ls-add", "last-before-switchover")
    res = lab2.promote(b, [], old=a)
    assert res.rc == 0, res
    assert "last-before-switchover" in b.switches()
    assert_proven_by_the_barrier(b, a)


def assert_proven_by_the_barrier(new: Node, old: Node) -> None:
    """``new`` found ``old``'s barrier in both databases and copied nothing."""
    log = (new.root / "agent.log").read_text()
    barrier = held_barrier(old)
    assert re.fullmatch(rf"[0-9]+:[0-9]+:{old.name}", barrier)
    assert f"holds the demoted node's final data (barrier {barrier}): no copy needed" in log
    assert "copying the whole database" not in log and "copied the demoted node's final data" not in log
    assert new.sbctl("get", "SB_Global", ".", "external_ids:ovndb-servers-barrier").strip('"') == barrier


def held_barrier(node: Node) -> str:
    """The barrier ``node``'s northbound database holds, read with ovn-nbctl."""
    return node.nbctl("get", "NB_Global", ".", "external_ids:ovndb-servers-barrier").strip('"')


def test_standby_of_the_promoted_node_is_proven_by_the_barrier_before_it_stops(lab2):
    """Standby: demote, stop, and a promotion in a later transition. The backups found the
    barrier in the post-demote notification, while the demoted node still ran."""
    a, b = promoted_pair(lab2)
    a.nbctl("ls-add", "last-before-standby")
    res = lab2.promote(b, [], old=a, stop_old=True)
    assert res.rc == 0, res
    assert a.pid("nb") is None and b.roles() == ("active", "active")
    assert "last-before-standby" in b.switches()
    proven = re.search(r"holds the demoted node's final data \(barrier ([0-9]+):[0-9]+:node1\)",
                       (b.root / "agent.log").read_text())
    assert proven
    # Promoted in a later transition, with no demoted candidate: a barrier of its own, which
    # its future backups will hold and node1's data (stopped, no longer a candidate) does not.
    assert re.fullmatch(rf"{int(proven[1]) + 1}:[0-9]+:node2", held_barrier(b))


def test_a_client_writing_to_a_backup_gets_a_clear_error_before_and_after_a_switchover(lab2):
    """A client connected to a backup's own address (not through the VIP or balancer) is
    refused every write with a reason that says the server is read-only, never acknowledged;
    after a switchover the same holds for a client of the demoted node."""
    a, b = promoted_pair(lab2)

    def write_to(node: Node, name: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ovn-nbctl", f"--db=tcp:{node.addr}:{NB_PORT}", "--timeout=5", "ls-add", name],
                              capture_output=True, text=True, timeout=10)

    before = write_to(b, "to-the-backup")
    assert before.returncode != 0 and "read only" in before.stderr
    assert lab2.promote(b, [], old=a).rc == 0
    after = write_to(a, "to-the-demoted-node")
    assert after.returncode != 0 and "read only" in after.stderr
    assert not {"to-the-backup", "to-the-demoted-node"} & b.switches()


def test_each_barrier_counts_one_above_the_highest_its_databases_hold(lab2):
    """A promote on new databases commits counter 1. The next barrier's counter comes from
    the data, not from the node: one above the highest of both databases, a value of the
    first version's form (``<node>:<ms>``) counting as 0."""
    a, b = promoted_pair(lab2)
    assert re.fullmatch(r"1:[0-9]+:node1", held_barrier(a))
    a.nbctl("set", "NB_Global", ".", "external_ids:ovndb-servers-barrier=node1:1700000000000")
    a.sbctl("set", "SB_Global", ".", "external_ids:ovndb-servers-barrier=7:1700000000000:node2")
    assert a.run("demote", master_ip=a.addr).rc == 0
    demoted = held_barrier(a)
    assert re.fullmatch(r"8:[0-9]+:node1", demoted)
    assert a.sbctl("get", "SB_Global", ".", "external_ids:ovndb-servers-barrier").strip('"') == demoted


def test_servers_that_turned_active_on_their_own_offer_nothing_when_demoted(lab2):
    """A backup told to stop replicating turns active without being promoted: its demote
    (Pacemaker's recovery) must not offer its data, or the other backups would follow it."""
    a, b = promoted_pair(lab2)
    promotions = held_barrier(a)  # the one a committed when it was promoted
    wait_for("node2 to hold it", lambda: held_barrier(b) == promotions)
    for db in ("nb", "sb"):
        b.appctl(db, "ovsdb-server/disconnect-active-ovsdb-server")
    assert b.roles() == ("active", "active")
    assert b.run("demote", master_ip=a.addr).rc == 0
    assert b.roles() == ("backup", "backup")
    assert not (b.rundir / "ovndb-servers.offer").exists()
    assert held_barrier(b) == promotions  # no barrier of its own


def cut_off_replication(node: Node, which: tuple[str, ...] = ("nb",)) -> None:
    """Point the node's backups (``which`` databases: northbound by default) at the "nowhere"
    address, as the agent itself points a backup (ovsdb.make_backup), and wait until they no
    longer replicate, keeping their data. Not with set-active-ovsdb-server and
    connect-active-ovsdb-server alone: from OVS 3.3 (seen on 3.5) a server already replicating
    keeps its session through those two (the new target took effect with the probe-interval
    setting make_backup sends next); OVS 3.1 restarted it."""
    ports = {"nb": NB_PORT, "sb": SB_PORT}
    for database in databases(str(node.rundir)):
        if database.key in which:
            nowhere = f"tcp:{NOWHERE}:{ports[database.key]}"
            make_backup(database, nowhere, probe_ms=5000)
            wait_for(f"{node.name}'s {database.key} to follow {nowhere}",
                     lambda database=database, nowhere=nowhere: sync_status(database).sync_from == nowhere)


def test_planned_switchover_copies_the_writes_the_successor_missed(lab2):
    """The successor's replication session was cut off (in a real cluster: the VIP left the
    promoted node with updates in flight); the writes acknowledged since must still be on
    the new promoted node: it copies the demoted node's final data before promoting."""
    a, b = promoted_pair(lab2)
    cut_off_replication(b)
    a.nbctl("ls-add", "missed-by-node2")
    assert "missed-by-node2" not in b.switches()
    res = lab2.promote(b, [], old=a)
    assert res.rc == 0, res
    assert b.roles() == ("active", "active")
    assert "missed-by-node2" in b.switches()
    log = (b.root / "agent.log").read_text()
    assert "copying the whole database from the demoted node instead" in log  # the barrier never came


def test_standby_of_the_promoted_node_keeps_the_writes_the_successor_missed(lab2):
    """Putting the promoted node in standby: Pacemaker demotes it, stops it, and promotes
    another node in a later transition, when the demoted node's data is gone from the
    network. The backups copied it in the post-demote notification."""
    a, b = promoted_pair(lab2)
    cut_off_replication(b)
    a.nbctl("ls-add", "missed-before-standby")
    assert "missed-before-standby" not in b.switches()
    res = lab2.promote(b, [], old=a, stop_old=True)
    assert res.rc == 0, res
    assert a.pid("nb") is None and b.roles() == ("active", "active")
    assert "missed-before-standby" in b.switches()


# -- crashes and half-dead states ------------------------------------------------------------
def kill_server(node: Node, db: str, sig: int) -> None:
    pid = node.pid(db)
    assert pid is not None
    os.kill(pid, sig)


def test_sigkill_of_the_promoted_servers_is_a_failed_promotion_then_a_clean_recovery(lab2):
    a, b = promoted_pair(lab2)
    a.nbctl("ls-add", "before-crash")
    wait_for("replication", lambda: "before-crash" in b.switches())
    kill_server(a, "nb", signal.SIGKILL)
    kill_server(a, "sb", signal.SIGKILL)
    wait_for("both servers gone", lambda: a.roles() == ("down", "down"))
    res = a.run("monitor", **MONITOR)
    assert res.rc == 9 and "gone" in res.reason
    # Pacemaker's recovery: demote (nothing runs), stop, then promote the survivor.
    assert a.run("demote").rc == 7
    assert a.run("stop").rc == 0
    assert lab2.promote(b, []).rc == 0
    b.nbctl("ls-add", "after-crash")
    # The crashed node rejoins as a backup of the new promoted node and gets the newer data.
    joining = lab2.notify_vars("pre", "start", start=[a], active=[b], promoted=[b])
    assert a.run("start", notify=joining, master_ip=b.addr).rc == 0
    wait_for("rejoin", lambda: {"before-crash", "after-crash"} <= a.switches())
    assert a.score() == "10"


def parent(pid: int) -> int:
    stat = open(f"/proc/{pid}/stat").read()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def test_a_failed_promoted_node_keeps_a_copy_of_writes_its_successor_never_received(lab2):
    a, b = lab2.nodes
    start_all(lab2, a, b)
    assert a.run("promote", master_ip=a.addr).rc == 0  # b never follows: cut off
    a.nbctl("ls-add", "unreplicated")
    assert a.run("monitor", **MONITOR).rc == 8
    a.kill_all()
    assert a.run("stop").rc == 0
    assert lab2.promote(b, []).rc == 0  # the only node left
    joining = lab2.notify_vars("pre", "start", start=[a], active=[b], promoted=[b])
    assert a.run("start", notify=joining, master_ip=b.addr).rc == 0
    wait_for("a to replicate b", lambda: "unreplicated" not in a.switches() and a.score() == "10")
    copies = list((a.root / "db").glob("ovnnb_db.db.unreplicated-*"))
    assert len(copies) == 1 and oct(copies[0].stat().st_mode & 0o777) == "0o600"
    query = ["OVN_Northbound", {"op": "select", "table": "Logical_Switch", "where": [], "columns": ["name"]}]
    out = subprocess.run(["ovsdb-tool", "query", str(copies[0]), json.dumps(query)], capture_output=True,
                         text=True, check=True).stdout
    assert "unreplicated" in out


def unreplicated_copies(node: Node) -> list[str]:
    """The names of the copies ``node``'s start kept of its northbound database."""
    return sorted(path.name for path in (node.root / "db").glob("ovnnb_db.db.unreplicated-*"))


def rejoin(lab: Lab, old: Node, new: Node) -> None:
    """``old`` failed while promoted, was stopped, ``new`` was promoted alone; ``old``
    starts as ``new``'s backup and replicates it."""
    old.kill_all()
    assert old.run("stop").rc == 0
    assert lab.promote(new, []).rc == 0
    joining = lab.notify_vars("pre", "start", start=[old], active=[new], promoted=[new])
    assert old.run("start", notify=joining, master_ip=new.addr).rc == 0
    wait_for(f"{old.name} to replicate {new.name}", lambda: old.score() == "10")


def test_a_failed_promoted_node_keeps_a_copy_when_its_successor_missed_its_last_barrier(lab2):
    """node2's replication is cut off, then node1 commits a newer barrier (a demote and a
    promotion of its own) and takes a write, and fails. Their time positions are within
    the tolerance (seconds apart, monitors of 10 s), so by time alone node1's data would
    not count as newer; by data it is: node2 was promoted without node1's last barrier."""
    a, b = promoted_pair(lab2)
    first = held_barrier(a)
    cut_off_replication(b, ("nb", "sb"))
    assert a.run("demote", master_ip=a.addr).rc == 0
    assert a.run("promote", master_ip=a.addr).rc == 0
    last = held_barrier(a)
    assert last != first and held_barrier(b) == first
    a.nbctl("ls-add", "unreplicated")
    assert a.run("monitor", master_ip=a.addr, **MONITOR).rc == 8
    assert abs(recorded_ms(a) - recorded_ms(b)) < 10000  # equal by time
    rejoin(lab2, a, b)
    assert "unreplicated" not in a.switches()
    assert len(unreplicated_copies(a)) == 1
    assert f"(barrier {last} here, {first} there;" in (a.root / "agent.log").read_text()


def test_a_failed_promoted_node_compares_times_with_the_barrier_its_successor_was_promoted_with(lab2):
    """node2 holds node1's promotion barrier, its replication is then cut off, node1 takes a
    write and records its position more than the tolerance later (monitors of 1 s). Same
    barrier, so the times decide: node1's data is newer and a copy is kept. node2's
    promotion commits a newer barrier of its own; node1 must compare with the barrier
    node2 was promoted with, not with that one."""
    a, b = lab2.nodes
    fast = {"interval_ms": 1000}  # time positions count as equal within 1 interval + 1 s
    start_all(lab2, a, b)
    assert lab2.promote(a, [b]).rc == 0
    wait_for("node2 to hold node1's promotion barrier", lambda: held_barrier(b) == held_barrier(a))
    wait_for("node2 to replicate", lambda: b.run("monitor", master_ip=a.addr, **fast).rc == 0 and b.score() == "10")
    cut_off_replication(b, ("nb", "sb"))
    a.nbctl("ls-add", "unreplicated")
    time.sleep(2.5)
    assert a.run("monitor", master_ip=a.addr, **fast).rc == 8
    assert recorded_ms(a) - recorded_ms(b) > 2 * 1000
    rejoin(lab2, a, b)
    assert "unreplicated" not in a.switches()
    assert len(unreplicated_copies(a)) == 1


def test_sigsegv_of_a_promoted_server_is_noticed_while_down_and_logged_after_restart(lab2):
    a, _ = promoted_pair(lab2)
    old = a.pid("nb")
    watcher = parent(old)  # ovsdb-server --monitor, which restarts crashed servers
    os.kill(watcher, signal.SIGSTOP)
    try:
        kill_server(a, "nb", signal.SIGSEGV)
        wait_for("the crash", lambda: a.role("nb") == "down")
        res = a.run("monitor", **MONITOR)
        assert res.rc == 9 and "northbound not-running" in res.reason
    finally:
        os.kill(watcher, signal.SIGCONT)
    # Restarted, it keeps its role (ovsdb-server saves it): promoted again, crash logged.
    wait_for("the restart", lambda: a.pid("nb") not in (None, old) and a.role("nb") == "active")
    assert a.run("monitor", **MONITOR).rc == 8
    assert "restarted" in (a.root / "agent.log").read_text()


def test_one_database_killed_on_a_backup_is_an_error_not_stopped(lab2):
    _, b = promoted_pair(lab2)
    kill_server(b, "sb", signal.SIGKILL)
    wait_for("sb gone", lambda: b.role("sb") == "down")
    for kw in (MONITOR, {}):  # recurring monitor and probe
        res = b.run("monitor", **kw)
        assert res.rc == 1
    assert "southbound not-running" in b.run("monitor", **MONITOR).reason
    assert b.run("stop").rc == 0 and b.processes() == []


def test_control_socket_that_does_not_answer_is_an_error_within_the_budget(lab2):
    a, _ = lab2.nodes
    start_all(lab2, a)
    pid = a.pid("nb")
    os.kill(pid, signal.SIGSTOP)
    try:
        res = a.run("monitor", timeout=30, timeout_ms=10000, **MONITOR)
        assert res.rc == 1 and "northbound not-answering" in res.reason
    finally:
        os.kill(pid, signal.SIGCONT)


BUSY_ROWS = 2000


def busy_rows(node: Node, db: str) -> None:
    """Rows for :func:`occupy` to select, written on the promoted ``node``."""
    name, table = ("OVN_Northbound", "Logical_Switch") if db == "nb" else ("OVN_Southbound", "Chassis_Private")
    reply = jsonrpc.call(str(node.rundir / f"ovn{db}_db.sock"), "transact",
                         [name] + [{"op": "insert", "table": table, "row": {"name": f"busy{i}"}}
                                   for i in range(BUSY_ROWS)], 1, 30)
    assert "error" not in str(reply["result"]), reply


def occupy(node: Node, db: str, seconds: float) -> threading.Thread:
    """Keep ``node``'s real server busy in one main-loop iteration for about ``seconds``, as
    building a replica's first reply of a large database does: a read-only transaction of
    selects, each matching the :func:`busy_rows` against thousands of clauses. Calibrated
    on one select first (machines differ tenfold); returns the thread waiting for the answer."""
    name, table = ("OVN_Northbound", "Logical_Switch") if db == "nb" else ("OVN_Southbound", "Chassis_Private")
    sock = str(node.rundir / f"ovn{db}_db.sock")
    select = {"op": "select", "table": table, "columns": ["name"],
              "where": [["name", "!=", f"none{j}"] for j in range(20000)]}
    started = time.monotonic()
    reply = jsonrpc.call(sock, "transact", [name, select], 2, 30)
    assert len(reply["result"][0]["rows"]) >= BUSY_ROWS, "the rows to select are missing"
    count = max(1, round(seconds / (time.monotonic() - started)))
    thread = threading.Thread(target=jsonrpc.call, args=(sock, "transact", [name] + [select] * count, 3, 120))
    thread.start()
    # The server reads a request of megabytes over many main-loop iterations, answering
    # meanwhile; it is busy once it executes it, which is when its control socket goes quiet.
    wait_for("the server to be busy", lambda: not answers_quickly(node.ctl(db)) or not thread.is_alive())
    assert thread.is_alive(), "the server answered the request before it was found busy"
    return thread


def answers_quickly(ctl: str) -> bool:
    """Whether the server behind control socket ``ctl`` answers within 0.1 s."""
    try:
        jsonrpc.call(ctl, "version", [], 4, 0.1)
    except (OSError, ValueError):
        return False
    return True


def test_a_busy_promoted_server_is_taken_as_promoted_not_called_broken(lab2):
    """A promoted southbound server builds a replica's first reply for seconds at 20 000 ports
    with ovn-northd, answering nobody; the monitor called that "broken" (9) and Pacemaker's
    recovery made the cluster busier, until nobody was promoted (the lab's 20 000-port
    switchover). A server that works is taken to hold its role, and the log says so."""
    a, _ = promoted_pair(lab2)
    busy_rows(a, "sb")
    busy = occupy(a, "sb", 6.0)  # three times one request's timeout
    try:
        res = a.run("monitor", interval_ms=15000)
    finally:
        busy.join()
    assert res.rc == 8, res
    assert re.search(r"southbound server \(pid \d+\) has not answered for \d+s but works",
                     (a.root / "agent.log").read_text())


def test_a_busy_backup_is_taken_as_a_backup(lab2):
    a, b = promoted_pair(lab2)
    busy_rows(a, "nb")
    wait_for("the rows to reach the backup", lambda: "busy1999" in b.switches())
    busy = occupy(b, "nb", 6.0)  # a backup's server runs read-only transactions too
    try:
        res = b.run("monitor", master_ip=a.addr, **MONITOR)
    finally:
        busy.join()
    assert res.rc == 0, res


def test_a_server_busy_for_longer_than_the_limit_is_broken(lab2):
    """Working is no excuse forever: the first monitor that found it silent is recorded (here
    61 s ago, as the agent writes it), and a minute later it counts as not answering."""
    a, _ = promoted_pair(lab2)
    pid = a.pid("sb")
    (a.rundir / "ovndb-servers.busy").write_text(f"{pid}@{int(time.time() * 1000) - 61_000}\n")
    busy_rows(a, "sb")
    busy = occupy(a, "sb", 6.0)
    try:
        res = a.run("monitor", interval_ms=15000)
    finally:
        busy.join()
    assert res.rc == 9 and "southbound not-answering" in res.reason, res
    assert a.run("monitor", interval_ms=15000).rc == 8  # answering again: the record goes
    assert not (a.rundir / "ovndb-servers.busy").exists()


def test_a_demote_waits_for_a_busy_promoted_server(lab2):
    """Pacemaker's recovery demoted the promoted node while its southbound server was busy
    (the same lab run), and the demote failed with "southbound not-answering"."""
    a, b = promoted_pair(lab2)
    busy_rows(a, "sb")
    busy = occupy(a, "sb", 6.0)
    try:
        res = a.run("demote", timeout_ms=50000)  # the meta-data's timeout: patient a quarter of it
    finally:
        busy.join()
    assert res.rc == 0, res
    assert a.roles() == ("backup", "backup")


def test_a_silent_server_that_does_not_work_is_reported_without_waiting(lab2):
    """The patience is for servers that work: a stopped (or hung) one is what it was."""
    a, _ = promoted_pair(lab2)
    pid = a.pid("sb")
    os.kill(pid, signal.SIGSTOP)
    try:
        res = a.run("monitor", interval_ms=15000)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert res.rc == 9 and "southbound not-answering" in res.reason, res
    assert "but works" not in (a.root / "agent.log").read_text()


def test_stop_kills_servers_that_do_not_answer_within_the_budget(lab2):
    a, _ = lab2.nodes
    start_all(lab2, a)
    for db in ("nb", "sb"):
        os.kill(a.pid(db), signal.SIGSTOP)
    res = a.run("stop", timeout_ms=8000)
    assert res.rc == 0, res
    assert a.processes() == [] and a.run("monitor").rc == 7


def test_start_demotes_servers_found_active_and_keeps_their_data(lab2):
    a, _ = lab2.nodes
    start_all(lab2, a)
    assert a.run("promote", master_ip=a.addr).rc == 0
    a.nbctl("ls-add", "survivor")
    # A node restarted by hand (or a cluster restart) finds its servers active: start must
    # not return 8, it makes them backups again and waits for Pacemaker to promote.
    res = a.run("start")
    assert res.rc == 0, res
    assert a.roles() == ("backup", "backup")
    assert "survivor" in a.switches()


def test_start_repairs_a_mixed_state(lab2):
    a, _ = lab2.nodes
    start_all(lab2, a)
    assert a.appctl("nb", "ovsdb-server/disconnect-active-ovsdb-server").returncode == 0
    assert a.roles() == ("active", "backup")
    assert a.run("monitor", **MONITOR).rc == 1
    assert a.run("start").rc == 0
    assert a.roles() == ("backup", "backup")


def test_pidfiles_of_zombies_and_other_programs_do_not_count_as_running(lab2, tmp_path):
    a, _ = lab2.nodes
    fake = tmp_path / "ovsdb-server"
    shutil.copy("/bin/true", fake)
    zombie = subprocess.Popen([str(fake)])  # never waited for until the end: a zombie
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        wait_for("the zombie", lambda: open(f"/proc/{zombie.pid}/stat").read().split(") ")[1][0] == "Z")
        a.rundir.mkdir(parents=True)
        (a.rundir / "ovnnb_db.pid").write_text(f"{zombie.pid}\n")
        (a.rundir / "ovnsb_db.pid").write_text(f"{sleeper.pid}\n")
        assert a.run("monitor").rc == 7
        assert a.run("start").rc == 0
        assert a.roles() == ("backup", "backup")
    finally:
        sleeper.kill()
        sleeper.wait()
        zombie.wait()


# -- freshness ------------------------------------------------------------------------------
def test_a_stale_replica_is_not_promoted_while_a_fresh_one_is_available(lab3):
    a, b, c = lab3.nodes
    start_all(lab3, a, b, c)
    assert lab3.promote(a, [b]).rc == 0  # c never hears of it: it keeps waiting on nowhere
    a.nbctl("ls-add", "only-on-a-and-b")
    wait_for("b to replicate", lambda: "only-on-a-and-b" in b.switches())
    for node in (b, c):
        node.run("monitor", master_ip=a.addr, **MONITOR)
    assert (b.score(), c.score()) == ("10", "1")
    a.kill_all()
    # Even if Pacemaker picks c (say its score was raised by hand), the pre-promote election
    # refuses: b's data is fresher. c hands b the higher score instead.
    res = lab3.promote(c, [b])
    assert res.rc == 1 and "node2 has fresher data" in res.reason
    assert (b.score(), c.score()) == ("10", "1")
    assert c.roles() == ("backup", "backup")
    assert lab3.promote(b, [c]).rc == 0
    assert "only-on-a-and-b" in b.switches()


def test_after_a_full_restart_the_last_promoted_node_wins(lab2):
    a, b = promoted_pair(lab2)
    assert b.run("stop").rc == 0
    a.nbctl("ls-add", "written-while-b-was-down")
    # Nodes fail one after the other; data positions closer than a second are not told apart.
    time.sleep(1.2)
    assert a.run("demote", master_ip=a.addr).rc == 0
    assert a.run("stop").rc == 0
    start_all(lab2, b, a)
    assert (a.score(), b.score()) == ("10", "1")
    res = lab2.promote(b, [a])  # the wrong choice is refused...
    assert res.rc == 1 and "node1 has fresher data" in res.reason
    assert lab2.promote(a, [b]).rc == 0  # ...and the right one keeps every write
    assert "written-while-b-was-down" in a.switches()
    wait_for("b to catch up", lambda: "written-while-b-was-down" in b.switches())


def test_a_node_the_election_refused_stays_stale_across_its_restart(lab2):
    a, b = promoted_pair(lab2)
    assert lab2.promote(b, [a], old=a).rc == 0  # a switchover: a was promoted before b
    b.nbctl("ls-add", "written-on-b")
    time.sleep(1.2)  # positions closer than a second count as equal
    assert b.run("stop").rc == 0
    assert a.run("stop").rc == 0
    start_all(lab2, a, b)
    assert (a.score(), b.score()) == ("10", "10")  # each was the last promoted node it knows of
    res = lab2.promote(a, [b])
    assert res.rc == 1 and "node2 has fresher data" in res.reason
    # Pacemaker restarts the instance whose promote failed: it must not score itself up again.
    assert a.run("stop").rc == 0 and a.run("start").rc == 0
    assert (a.score(), b.score()) == ("1", "10")
    assert lab2.promote(b, [a]).rc == 0
    assert "written-on-b" in b.switches()


def test_equally_fresh_backups_are_not_refused_for_monitors_run_at_other_moments(lab3):
    a, b, c = lab3.nodes
    start_all(lab3, a, b, c)
    assert lab3.promote(a, [b, c]).rc == 0
    for node in (b, c):
        wait_for(f"{node.name} to replicate",
                 lambda node=node: node.run("monitor", master_ip=a.addr, **MONITOR).rc == 0 and node.score() == "10")
    assert b.run("monitor", master_ip=a.addr, **MONITOR).rc == 0
    time.sleep(1.5)  # c's last position is newer than b's, by less than the monitor interval
    assert c.run("monitor", master_ip=a.addr, **MONITOR).rc == 0
    a.kill_all()
    assert lab3.promote(b, [c]).rc == 0


def recorded_ms(node: Node) -> int:
    """When ``node``'s data was last known complete, as its position file says (first word)."""
    return int((node.root / "db" / "ovndb-servers.position").read_text().split()[0])


def test_a_replica_that_missed_writes_loses_to_one_that_did_not_whatever_the_times_say(lab3):
    """Two backups of node1; node3's replication is cut off, node1 takes a write and commits
    a barrier (its demote), and node1 is lost before anyone copied its final data (no
    notifications reached node3). node3's time position is the newer one by more than the
    election's tolerance (its last connected monitor ran later), yet it missed writes: the
    election goes by the barriers, refuses node3 and promotes node2, which holds the write."""
    a, b, c = lab3.nodes
    fast = {"interval_ms": 1000}  # time positions count as equal within 1 interval + 1 s
    start_all(lab3, a, b, c)
    assert lab3.promote(a, [b, c]).rc == 0
    promotion = held_barrier(a)  # committed by node1's promote
    for node in (b, c):
        wait_for(f"{node.name} to hold node1's promotion barrier", lambda node=node: held_barrier(node) == promotion)
    assert b.run("monitor", master_ip=a.addr, **fast).rc == 0
    time.sleep(2.5)
    assert c.run("monitor", master_ip=a.addr, **fast).rc == 0
    assert recorded_ms(c) - recorded_ms(b) > 2 * 1000  # by time alone, node3 is clearly fresher
    cut_off_replication(c, ("nb", "sb"))
    a.nbctl("ls-add", "missed-by-node3")
    assert a.run("demote", master_ip=a.addr).rc == 0
    final = held_barrier(a)
    assert final != promotion
    wait_for("node2 to hold node1's final barrier", lambda: held_barrier(b) == final)
    a.kill_all()
    assert a.run("stop").rc == 0
    assert held_barrier(c) == promotion and "missed-by-node3" not in c.switches()
    res = lab3.promote(c, [b])
    assert res.rc == 1, res
    assert "node2 has fresher data (barrier " in res.reason and c.roles() == ("backup", "backup")
    res = lab3.promote(b, [c])  # node3's newer time position does not refuse node2
    assert res.rc == 0, res
    assert "missed-by-node3" in b.switches()


def demote_for(lab: Lab, old: Node, new: Node) -> None:
    """The first half of a switchover from ``old`` to ``new`` without the post-demote
    notification: ``new`` first meets the demoted node's final data in its promote."""
    pre_demote = lab.notify_vars("pre", "demote", demote=[old], promote=[new], active=[old, new], promoted=[old])
    assert old.run("demote", notify=pre_demote, master_ip=old.addr).rc == 0


def promote_after_demote(lab: Lab, old: Node, new: Node, **kw) -> Result:
    """The second half: ``new``'s pre-promote notification and promote (``old`` was notified
    in its demote already; it publishes nothing new)."""
    pre = lab.notify_vars("pre", "promote", promote=[new], demote=[old], active=[old, new])
    assert new.run("notify", notify=pre, master_ip=new.addr).rc == 0
    return new.run("promote", notify=pre, master_ip=new.addr, **kw)


def test_a_successor_that_missed_the_barrier_copies_before_the_election_and_is_promoted(lab2):
    """The successor holds an older barrier than the demoted node until its hand-off copies
    the final data: the election comes after the hand-off, so it is not refused."""
    a, b = promoted_pair(lab2)
    cut_off_replication(b, ("nb", "sb"))
    a.nbctl("ls-add", "missed-by-node2")
    demote_for(lab2, a, b)
    assert held_barrier(b) != held_barrier(a)
    res = promote_after_demote(lab2, a, b)
    assert res.rc == 0, res
    assert "missed-by-node2" in b.switches() and b.roles() == ("active", "active")
    assert "copied the demoted node's final data" in (b.root / "agent.log").read_text()


def test_a_successor_that_copied_is_not_refused_for_another_backups_newer_time_position(lab3):
    """A move to node2, whose replication was cut off: it copies node1's final data in the
    post-demote notification. node3 received the demote's barrier over its live session, and
    its last connected monitor ran later than node2's by more than the election's tolerance;
    the promotion comes in a later transition, whose pre-promote notification refreshes
    nobody's position. Both hold node1's last commit, the same data: node3's newer time must
    not refuse node2 (in the 3-node lab it did, at every retry, while the move kept the
    promoted role on node2: no node was promoted; tests/cluster/test_switchover_fallback.py)."""
    a, b, c = lab3.nodes
    fast = {"interval_ms": 1000}  # time positions count as equal within 1 interval + 1 s
    start_all(lab3, a, b, c)
    assert lab3.promote(a, [b, c]).rc == 0
    for node in (b, c):
        wait_for(f"{node.name} to replicate", lambda node=node: node.run(
            "monitor", master_ip=a.addr, **fast).rc == 0 and node.score() == "10")
    cut_off_replication(b, ("nb", "sb"))
    a.nbctl("ls-add", "missed-by-node2")
    time.sleep(2.5)
    assert c.run("monitor", master_ip=a.addr, **fast).rc == 0
    assert recorded_ms(c) - recorded_ms(b) > 2 * 1000  # by time alone, node3 is clearly fresher
    res = lab3.promote(b, [c], old=a, later=True)
    assert res.rc == 0, res
    assert "missed-by-node2" in b.switches() and b.roles() == ("active", "active")


def test_a_successor_holding_the_final_barrier_is_promoted_though_its_time_position_is_older(lab2):
    """The successor receives the demote's barrier, then its session is cut off (as the
    demoted node's inactivity probe cut a successor busy loading 100 000 ports in the bench),
    so its pre-promote notification records no fresh position: its last record is older than
    the demoted node's by more than the tolerance (monitors of 1 s). It holds the demoted
    node's last commit, so it holds all its data: promoted, not refused by the times."""
    a, b = lab2.nodes
    fast = {"interval_ms": 1000}  # time positions count as equal within 1 interval + 1 s
    start_all(lab2, a, b)
    assert lab2.promote(a, [b]).rc == 0
    wait_for("node2 to replicate", lambda: b.run("monitor", master_ip=a.addr, **fast).rc == 0 and b.score() == "10")
    assert a.run("monitor", master_ip=a.addr, **fast).rc == 8
    a.nbctl("ls-add", "last-write")
    time.sleep(2.5)
    demote_for(lab2, a, b)
    wait_for("node2 to hold node1's final barrier", lambda: held_barrier(b) == held_barrier(a))
    cut_off_replication(b, ("nb", "sb"))
    assert recorded_ms(a) - recorded_ms(b) > 2 * 1000  # by time alone, node1 is clearly fresher
    res = promote_after_demote(lab2, a, b)
    assert res.rc == 0, res
    assert "last-write" in b.switches() and b.roles() == ("active", "active")


def test_the_old_node_follows_the_new_promoted_node_though_its_server_answers_late(lab2):
    """After a switchover the old node's northbound server does not answer for 3 s (as one
    busy sending a 100 000-port copy did in the bench, where the old node was then left
    pointed at nowhere for good). Its post-promote notification waits for it and re-points
    it at the new promoted node all the same."""
    a, b = promoted_pair(lab2)
    demote_for(lab2, a, b)
    assert promote_after_demote(lab2, a, b).rc == 0
    b.nbctl("ls-add", "after-switchover")
    post = lab2.notify_vars("post", "promote", promote=[b], active=[a, b], promoted=[b])
    pid = a.pid("nb")
    os.kill(pid, signal.SIGSTOP)
    try:
        notified = threading.Thread(target=a.run, args=("notify",), kwargs={"notify": post, "master_ip": b.addr})
        notified.start()
        time.sleep(3)
    finally:
        os.kill(pid, signal.SIGCONT)
    notified.join()
    wait_for("node1 to replicate node2", lambda: "after-switchover" in a.switches())


def test_a_successor_whose_server_answers_late_is_promoted_all_the_same(lab2):
    """The successor's northbound server does not answer for 3 s as its promote begins (as
    one still loading a 100 000-port copy from its post-demote notification did in the bench,
    where the promote failed at once with "northbound not-answering"). The promote waits for
    it and promotes."""
    a, b = promoted_pair(lab2)
    a.nbctl("ls-add", "last-write")
    demote_for(lab2, a, b)
    pre = lab2.notify_vars("pre", "promote", promote=[b], demote=[a], active=[a, b])
    assert b.run("notify", notify=pre, master_ip=b.addr).rc == 0
    pid = b.pid("nb")
    results = []
    os.kill(pid, signal.SIGSTOP)
    try:
        promoting = threading.Thread(target=lambda: results.append(b.run("promote", notify=pre, master_ip=b.addr)))
        promoting.start()
        time.sleep(3)
    finally:
        os.kill(pid, signal.SIGCONT)
    promoting.join()
    assert results[0].rc == 0, results[0]
    assert "last-write" in b.switches() and b.roles() == ("active", "active")


def test_a_successor_whose_hand_off_failed_is_refused_rather_than_promoted_with_less_data(lab2):
    """The demoted node stops answering right after its demote (SIGSTOP): the successor, cut
    off before the barrier, neither finds it nor copies the final data, and still holds an
    older barrier than the demoted node. Refused within the promote's budget, not promoted
    with less data than another candidate holds."""
    a, b = promoted_pair(lab2)
    cut_off_replication(b, ("nb", "sb"))
    a.nbctl("ls-add", "missed-by-node2")
    demote_for(lab2, a, b)
    pids = [a.pid("nb"), a.pid("sb")]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        res = promote_after_demote(lab2, a, b, timeout_ms=10000)
        took = time.monotonic() - started
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert res.rc == 1, res
    assert "node1 has fresher data (barrier " in res.reason and took < 10
    assert b.roles() == ("backup", "backup") and b.score() == "1" and a.score() == "10"


def test_a_backup_cut_off_from_a_failed_promoted_node_keeps_its_score_for_a_grace_period(lab2):
    a, b = lab2.nodes
    fast = {"interval_ms": 1000}  # grace: 2 monitor intervals + 4 s after the last connected monitor
    start_all(lab2, a, b)
    assert lab2.promote(a, [b]).rc == 0
    wait_for("node2 to replicate", lambda: b.run("monitor", master_ip=a.addr, **fast).rc == 0 and b.score() == "10")
    a.kill_all()
    # Right after the failure every backup is cut off: the fresh ones keep the replicating
    # score, so that they still outrank a backup cut off long before...
    assert b.run("monitor", master_ip=a.addr, **fast).rc == 0
    assert b.score() == "10"
    # ...which is scored stale once the grace period is over.
    wait_for("node2 to be scored stale",
             lambda: b.run("monitor", master_ip=a.addr, **fast).rc == 0 and b.score() == "1", limit=30, interval=0.5)


# -- self-replication, addresses, Connection rows ---------------------------------------------
def test_never_replicates_from_itself(lab2):
    a, _ = lab2.nodes
    res = a.run("start", nowhere_ip=a.addr)
    assert res.rc == 2 and f"nowhere_ip='{a.addr}'" in res.reason
    start_all(lab2, a)
    # A post-promote notification naming another node while master_ip reaches this one.
    post = lab2.notify_vars("post", "promote", promote=[lab2.nodes[1]], active=lab2.nodes, promoted=[lab2.nodes[1]])
    assert a.run("notify", notify=post, master_ip=a.addr).rc == 0
    assert a.roles() == ("backup", "backup")
    assert NOWHERE in a.appctl("nb", "ovsdb-server/sync-status").stdout


def test_connection_rows_ipv6_several_rows_and_changed_settings(lab2):
    a, _ = lab2.nodes
    v6 = {"listen_on_master_ip_only": "yes", "master_ip": "::1", "nb_master_port": "16641",
          "sb_master_port": "16642"}
    a.params.update(v6)
    start_all(lab2, a)
    assert a.run("promote").rc == 0
    assert a.nbctl("--bare", "--columns=target", "list", "Connection") == "ptcp:16641:[::1]"
    # An operator's extra listener on another port, and a stale duplicate of ours.
    a.nbctl("--", "--id=@c", "create", "Connection", 'target="ptcp:16650:127.0.10.1"',
            "--", "add", "NB_Global", ".", "connections", "@c")
    a.nbctl("--", "--id=@c", "create", "Connection", 'target="ptcp:16641:127.0.10.1"',
            "--", "add", "NB_Global", ".", "connections", "@c")
    assert a.run("promote", inactive_probe_interval="9000").rc == 0
    rows = sorted(a.nbctl("--bare", "--columns=target,inactivity_probe", "list", "Connection").split("\n\n"))
    assert [" ".join(r.split()) for r in rows] == ["ptcp:16641:[::1] 9000", "ptcp:16650:127.0.10.1"]
    wait_for("the server to listen on ::1", lambda: subprocess.run(
        ["ovn-nbctl", "--db=tcp:[::1]:16641", "--timeout=2", "ls-list"], capture_output=True).returncode == 0)


def test_manage_northd_follows_the_promoted_node(lab2):
    a, b = lab2.nodes
    for node in (a, b):
        node.params["manage_northd"] = "yes"
    start_all(lab2, a, b)
    assert lab2.promote(a, [b]).rc == 0
    northd = a.rundir / "ovn-northd.pid"
    assert northd.exists() and a.run("monitor", **MONITOR).rc == 8
    assert not (b.rundir / "ovn-northd.pid").exists()
    os.kill(int(northd.read_text()), signal.SIGKILL)
    wait_for("northd gone", lambda: a.run("monitor", **MONITOR).rc == 9)
    assert a.run("promote").rc == 0 and a.run("monitor", **MONITOR).rc == 8  # promote restarts it
    assert a.run("demote").rc == 0
    assert a.run("monitor", **MONITOR).rc == 0 and not [
        p for p in a.processes() if open(f"/proc/{p}/comm").read().strip() == "ovn-northd"]


# -- SSL and bundles ---------------------------------------------------------------------------
def make_pki(directory) -> dict[str, str]:
    """A CA and one certificate signed by it (every node uses it, as a simple deployment)."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "cacert.pem",
            "-days", "2", "-subj", "/CN=ocfa-test-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "privkey.pem", "-out", "req.pem",
            "-subj", "/CN=ovndb")
    openssl("x509", "-req", "-in", "req.pem", "-CA", "cacert.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", "cert.pem", "-days", "2")
    params = {}
    for db in ("nb", "sb"):
        params.update({f"{db}_master_protocol": "ssl", f"ovn_{db}_db_privkey": f"{directory}/privkey.pem",
                       f"ovn_{db}_db_cert": f"{directory}/cert.pem", f"ovn_{db}_db_cacert": f"{directory}/cacert.pem"})
    return params


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make test certificates")
def test_ssl_replication_and_listening(lab2, tmp_path):
    a, b = lab2.nodes
    pki = make_pki(tmp_path)
    for node in (a, b):
        node.params.update(pki)
    a, b = promoted_pair(lab2)
    assert a.nbctl("--bare", "--columns=target", "list", "Connection") == f"pssl:6641:{a.addr}"
    a.nbctl("ls-add", "over-ssl")
    wait_for("replication over SSL", lambda: "over-ssl" in b.switches())
    # Read by field, not by line: since OVS 3.3 each database's block starts with "database:".
    status = parse_sync_status(b.appctl("nb", "ovsdb-server/sync-status").stdout)
    assert (status.role, status.sync_from, status.replicating) == ("backup", f"ssl:{a.addr}:6641", True)
    a.nbctl("ls-add", "last-over-ssl")
    assert lab2.promote(b, [], old=a).rc == 0  # the switchover's barrier over SSL too
    assert "last-over-ssl" in b.switches()
    assert_proven_by_the_barrier(b, a)


def pacemaker_feature_set() -> str:
    """The CIB feature set of the installed Pacemaker, the one it hands agents as
    ``OCF_RESKEY_crm_feature_set`` (3.16.1 with Debian 12's Pacemaker 2.1.5, 3.20 with Debian
    13's 3.0.0): what an empty CIB made by its own cibadmin says."""
    empty = subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True, timeout=10)
    feature_set = ET.fromstring(empty.stdout).get("crm_feature_set")
    assert feature_set, empty.stdout
    return feature_set


def cib_promotion_score(node: Node) -> str | None:
    """The node's promotion score as the CIB holds it, read from the XML rather than through
    the tool that wrote it: the transient ``master-<resource>`` attribute of its node_state."""
    xpath = (f"status/node_state[@uname='{node.name}']/transient_attributes/instance_attributes/"
             f"nvpair[@name='master-{RESOURCE}']")
    found = ET.parse(node.cib).getroot().find(xpath)
    return None if found is None else found.get("value")


def test_the_promotion_score_goes_through_crm_attribute_promotion_into_the_cib(lab2):
    """With the feature set the installed Pacemaker gives, the score is written by
    ``crm_attribute --promotion``, never by crm_master (deprecated from Pacemaker 3.0), lands in
    the CIB's status section where the scheduler reads it, and is removed by stop."""
    a = lab2.nodes[0]
    feature_set = pacemaker_feature_set()
    assert a.run("start", crm_feature_set=feature_set).rc == 0
    assert cib_promotion_score(a) == "1"  # a backup waiting on the nowhere address
    assert a.run("stop", crm_feature_set=feature_set).rc == 0
    assert cib_promotion_score(a) is None
    log = (a.root / "agent.log").read_text()
    assert f"crm_attribute --promotion={RESOURCE}" in log and "crm_master" not in log


def test_scores_are_keyed_by_the_physical_host_in_a_bundle(lab2):
    a, b = lab2.nodes
    # node1's instance runs in a container on node2: its score belongs to node2.
    res = a.run("start", meta={"container_attribute_target": "host", "physical_host": b.name})
    assert res.rc == 0, res
    assert b.score() == "1" and a.score() is None
