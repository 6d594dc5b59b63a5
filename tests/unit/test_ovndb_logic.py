"""ovndb-servers logic that needs no server: parsing, addresses, the monitor's state table,
ovn-ctl arguments, and compatibility of the parameters with OVN's own agent.

Every behaviour here is also exercised against real ovsdb-servers in
tests/integration/test_ovndb_agent.py.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from ocf_agents.agents.ovndb import barrier, state
from ocf_agents.agents.ovndb.barrier import Barrier
from ocf_agents.agents.ovndb.config import Db
from ocf_agents.agents.ovndb.election import compare, holds_final_data, outranks
from ocf_agents.agents.ovndb.metadata import METADATA
from ocf_agents.agents.ovndb.monitor import classify, parse_busy
from ocf_agents.agents.ovndb.promotion import mark_promotion
from ocf_agents.agents.ovndb.position import GRACE_SLACK_MS, Position, Published, parse_position, parse_published
from ocf_agents.ocf.codes import FailedPromotedError, GenericError, Rc
from ocf_agents.ovs import ovsdb

UPSTREAM = "/usr/share/ovn/scripts/ovndb-servers.ocf"


# -- sync-status -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, role, target, replicating",
    [
        ("state: active\n", "active", None, False),
        ("state: backup\nconnecting: tcp:192.0.2.254:6641\n", "backup", "tcp:192.0.2.254:6641", False),
        ("state: backup\nreplicating: tcp:10.0.0.1:6641\ndatabase: OVN_Northbound\n", "backup",
         "tcp:10.0.0.1:6641", True),
        # Newer servers print the database first: the state line is found wherever it is.
        ("database: OVN_Northbound\nstate: backup\nreplicating: ssl:[::1]:6641\n", "backup", "ssl:[::1]:6641", True),
    ],
)
def test_sync_status_is_parsed_wherever_the_state_line_stands(text, role, target, replicating):
    assert ovsdb.parse_sync_status(text) == ovsdb.SyncStatus(role, target, replicating)


def test_sync_status_without_a_state_is_an_error():
    with pytest.raises(ovsdb.OvsdbError):
        ovsdb.parse_sync_status("database: OVN_Northbound\n")


# -- addresses ----------------------------------------------------------------------------
def test_ipv6_addresses_are_bracketed_in_active_and_passive_remotes():
    assert ovsdb.remote("tcp", "10.0.0.1", 6641) == "tcp:10.0.0.1:6641"
    assert ovsdb.remote("ssl", "fd00::1", 6642) == "ssl:[fd00::1]:6642"
    assert ovsdb.remote("tcp", "::1", 6641, passive=True) == "ptcp:6641:[::1]"
    assert ovsdb.parse_remote("ssl:[fd00::1]:6642") == ("ssl", "fd00::1", 6642)
    assert ovsdb.parse_remote("unix:/run/x") is None


# -- the monitor's table ----------------------------------------------------------------------
def _state(nb: str, sb: str, northd: bool = False) -> state.State:
    def server(key: str, role: str) -> state.Server:
        db = Db(ovsdb.Database(key, "S", "G", "/run"), 6641, "tcp", ("", "", ""))
        status = ovsdb.SyncStatus(role, None, False) if role in (state.ACTIVE, state.BACKUP) else None
        return state.Server(db, None if role == state.NOT_RUNNING else 1, status, None, busy=role == state.BUSY)

    return state.State((server("nb", nb), server("sb", sb)), northd)


@pytest.mark.parametrize(
    "nb, sb, promoted, northd_managed, northd, expected",
    [
        ("not-running", "not-running", False, False, False, Rc.NOT_RUNNING),
        ("backup", "backup", False, False, False, Rc.SUCCESS),
        ("active", "active", True, False, False, Rc.RUNNING_PROMOTED),
        ("active", "active", False, False, False, Rc.RUNNING_PROMOTED),  # found active: say so
        ("active", "active", True, True, True, Rc.RUNNING_PROMOTED),
        ("active", "active", True, True, False, Rc.FAILED_PROMOTED),
        ("active", "backup", True, False, False, Rc.FAILED_PROMOTED),
        ("not-running", "active", True, False, False, Rc.FAILED_PROMOTED),
        ("not-running", "not-running", True, False, False, Rc.FAILED_PROMOTED),
        ("backup", "backup", True, False, False, Rc.FAILED_PROMOTED),
        ("active", "backup", False, False, False, Rc.ERR_GENERIC),
        ("backup", "not-running", False, False, False, Rc.ERR_GENERIC),
        ("not-answering", "backup", False, False, False, Rc.ERR_GENERIC),
        ("not-running", "not-running", False, True, True, Rc.ERR_GENERIC),
        # a busy server (working, not answering) holds the role the node's servers should have
        ("busy", "backup", False, False, False, Rc.SUCCESS),
        ("busy", "busy", False, False, False, Rc.SUCCESS),
        ("active", "busy", True, True, True, Rc.RUNNING_PROMOTED),
        ("busy", "busy", True, False, False, Rc.RUNNING_PROMOTED),
        ("busy", "active", False, False, False, Rc.ERR_GENERIC),  # found active unpromoted: mixed
        ("busy", "backup", True, False, False, Rc.FAILED_PROMOTED),
        ("busy", "not-running", True, False, False, Rc.FAILED_PROMOTED),
    ],
)
def test_monitor_table(nb, sb, promoted, northd_managed, northd, expected):
    state = _state(nb, sb, northd)
    try:
        rc = classify(state, promoted, northd_managed)
    except (GenericError, FailedPromotedError) as err:
        rc = err.rc
        assert nb in err.reason or "northd" in err.reason or "gone" in err.reason
    assert rc == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", {}),
        ("273@1796325940000 256@1796325951000", {273: 1796325940000, 256: 1796325951000}),
        ("273@1@2 x@5 7@ @9 -3@4 8@-1 9@1.5 {} 12@34", {12: 34}),  # damaged: only whole words count
    ],
)
def test_the_busy_record_reads_pid_at_ms_words_and_nothing_else(text, expected):
    assert parse_busy(text) == expected


# -- compatibility with OVN's agent -----------------------------------------------------------
UPSTREAM_DEFAULTS = {
    "ovn_ctl": "/usr/share/ovn/scripts/ovn-ctl",
    "master_ip": None,
    "nb_master_port": "6641",
    "sb_master_port": "6642",
    "nb_master_protocol": "tcp",
    "sb_master_protocol": "tcp",
    "manage_northd": "no",
    "inactive_probe_interval": "5000",
    "inactive_probe_interval_to_master": "60000",
    "listen_on_master_ip_only": "yes",
    "ovn_nb_db_privkey": "/etc/openvswitch/ovnnb-privkey.pem",
    "ovn_nb_db_cert": "/etc/openvswitch/ovnnb-cert.pem",
    "ovn_nb_db_cacert": "/etc/openvswitch/cacert.pem",
    "ovn_sb_db_privkey": "/etc/openvswitch/ovnsb-privkey.pem",
    "ovn_sb_db_cert": "/etc/openvswitch/ovnsb-cert.pem",
    "ovn_sb_db_cacert": "/etc/openvswitch/cacert.pem",
}


# -- data positions: the election and the grace period ------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("1700000000000 backup 7000", (1700000000000, False, 7000)),
        ("1700000000000 promoted 5000", (1700000000000, True, 5000)),
        ("1700000000000 promoted", (1700000000000, True, 0)),  # written before intervals were
        ("", (0, False, 0)),
        (None, (0, False, 0)),
        ("garbage", (0, False, 0)),
    ],
)
def test_positions_are_parsed_back_from_what_they_write(text, expected):
    position = parse_position(text)
    assert tuple(position) == expected
    assert parse_position(str(position)) == position


@pytest.mark.parametrize(
    "newer_ms, older_ms, intervals, fresher",
    [
        (7_900, 0, (7000, 7000), False),  # backups whose monitors ran at different moments
        (8_100, 0, (7000, 7000), True),
        (8_100, 0, (7000, 0), True),  # the larger interval counts
        (8_100, 0, (0, 10_000), False),
        (1_100, 0, (0, 0), True),  # stopped nodes: only clock skew
    ],
)
def test_only_a_position_newer_by_more_than_a_monitor_interval_and_a_second_is_fresher(
        newer_ms, older_ms, intervals, fresher):
    newer = Position(newer_ms, False, intervals[0])
    older = Position(older_ms, False, intervals[1])
    assert newer.clearly_fresher(older) is fresher
    assert not older.clearly_fresher(newer)


def test_a_cut_off_backup_keeps_its_score_for_two_monitor_intervals_and_a_few_seconds():
    position = Position(100_000, False, 7000)
    assert position.within_grace(100_000 + 2 * 7000 + GRACE_SLACK_MS)
    assert not position.within_grace(100_000 + 2 * 7000 + GRACE_SLACK_MS + 1)


def test_a_backup_that_is_stale_by_the_grace_period_loses_the_election_too():
    """Pacemaker's choice (scores) and the election agree: a backup scored stale is refused
    against one whose last record was within a monitor interval of the failure."""
    interval = 7000
    cut_off = Position(0, False, interval)
    failure = 2 * interval + GRACE_SLACK_MS + 1  # cut_off's score dropped before this
    fresh = Position(failure - interval, False, interval)
    assert not cut_off.within_grace(failure)
    assert fresh.clearly_fresher(cut_off)


def test_every_upstream_parameter_keeps_its_name_and_default():
    for name, default in UPSTREAM_DEFAULTS.items():
        assert METADATA.parameter(name).default == default, name


@pytest.mark.skipif(not os.path.exists(UPSTREAM), reason="OVN's agent is not installed (package ovn-central)")
def test_upstream_meta_data_declares_no_parameter_we_lack():
    from lxml import etree

    xml = subprocess.run(["bash", UPSTREAM, "meta-data"], capture_output=True, text=True,
                         env={"OCF_ROOT": "/usr/lib/ocf", "__OCF_ACTION": "meta-data", "PATH": os.environ["PATH"]})
    names = etree.fromstring(xml.stdout.encode()).xpath("//parameter/@name")
    assert set(names) == set(UPSTREAM_DEFAULTS)
    assert set(names) <= {p.name for p in METADATA.parameters}


def test_a_published_position_carries_the_hand_off_address_as_a_fourth_word():
    published = parse_published("1700000000000 promoted 10000 10.99.0.3")
    assert published.address == "10.99.0.3" and not published.offering and published.barrier is None
    assert tuple(published.position) == (1700000000000, True, 10000)
    assert str(published) == "1700000000000 promoted 10000 10.99.0.3"
    assert parse_published("1700000000000 backup 30000").address is None
    assert parse_published(None).address is None
    assert published.held is None  # an earlier version's form: its barrier is unknown


def test_a_demoted_node_publishes_its_offer_after_its_address():
    published = parse_published("1700000000000 promoted 10000 10.99.0.3 node1:1700000000001")
    assert (published.address, published.barrier) == ("10.99.0.3", "node1:1700000000001")
    assert published.offering
    assert parse_published(str(published)) == published
    without = parse_published("1700000000000 promoted 10000 10.99.0.3 -")
    assert without.offering and without.barrier is None  # offered: the successor copies



# -- barriers: the data position the election compares first -------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("3:1700000000000:node1", Barrier(3, 1700000000000, "node1")),
        ("node1:1700000000000", Barrier(0, 1700000000000, "node1")),  # the first version's form
        ("12:1700000000000:a:b", Barrier(12, 1700000000000, "a:b")),
        ("3:x:node1", None),
        ("node1:", None),
        ("\u0661:2:node1", None),  # digits, but not ASCII ones
        ("garbage", None),
        ("1:1700000000000:two words", None),  # would not stay one word of the published position
        ("", None),
        (None, None),
    ],
)
def test_barriers_are_parsed_back_from_what_they_write(text, expected):
    parsed = barrier.parse(text)
    assert parsed == expected
    assert parsed is None or barrier.parse(str(parsed)) == parsed


def test_barriers_rank_by_counter_then_time_and_no_barrier_lowest():
    """The counter orders one history whatever the clocks say; the time only orders barriers
    with the same counter (two branches after a fail-over to a node that missed one)."""
    ascending = [None, Barrier(0, 9_000, "old-version"), Barrier(1, 5_000, "n2"), Barrier(1, 6_000, "n1"),
                 Barrier(2, 1_000, "n1")]
    assert sorted(reversed(ascending), key=barrier.rank) == ascending


@pytest.mark.parametrize(
    "text, address, offer, held",
    [
        ("1700000000000 backup 10000 held=2:1700000000005:node1", None, None, "2:1700000000005:node1"),
        ("1700000000000 backup 10000 held=-", None, None, "-"),
        ("1700000000000 promoted 10000 10.99.0.3 held=1:1700000000000:node1", "10.99.0.3", None,
         "1:1700000000000:node1"),
        ("1700000000000 promoted 10000 10.99.0.3 2:1700000000005:node1 held=2:1700000000005:node1", "10.99.0.3",
         "2:1700000000005:node1", "2:1700000000005:node1"),
    ],
)
def test_a_published_position_carries_the_held_barrier_as_a_keyword(text, address, offer, held):
    published = parse_published(text)
    assert (published.address, published.offer, published.held) == (address, offer, held)
    assert tuple(published.position)[:2] == (1700000000000, "promoted" in text)
    assert str(published) == text


MINE = Position(100_000, False, 1000)  # equal within 2 s (1 s interval + 1 s clock skew)
MY_BARRIER = Barrier(2, 50_000, "node1")


@pytest.mark.parametrize(
    "held, their_ms, my_barrier, fresher",
    [
        ("3:60000:node2", 0, MY_BARRIER, 1),  # a later barrier, though an older time
        ("1:40000:node1", 200_000, MY_BARRIER, -1),  # missed writes: a clearly newer time does not help
        ("-", 200_000, MY_BARRIER, -1),  # holds no barrier at all
        ("node1:90000", 200_000, MY_BARRIER, -1),  # the first version's barrier ranks below counted ones
        ("2:50000:node1", 200_000, MY_BARRIER, 1),  # the same barrier: the times decide
        ("2:50000:node1", 101_500, MY_BARRIER, 0),
        ("2:50000:node1", 10_000, MY_BARRIER, -1),
        (None, 200_000, MY_BARRIER, 1),  # an earlier version published none: the times decide
        (None, 101_500, MY_BARRIER, 0),
        ("-", 200_000, None, 1),  # neither holds a barrier: the times decide
        ("1:40000:node1", 0, None, 1),
    ],
)
def test_the_election_compares_barriers_first_and_times_only_when_they_do_not_decide(
        held, their_ms, my_barrier, fresher):
    theirs = Published(Position(their_ms, False, 1000), None, None, held)
    assert compare(theirs, MINE, my_barrier) == fresher
    assert outranks(theirs, MINE, my_barrier) is (fresher > 0)


@pytest.mark.parametrize(
    "held, their_ms, fresher",
    [
        ("2:50000:node1", 200_000, 0),  # the same barrier: the same data, whatever the times
        (None, 200_000, 0),  # an earlier version published none: nobody wrote after the final one
        ("3:60000:node2", 0, 1),  # a later barrier still wins
        ("1:40000:node1", 200_000, -1),
    ],
)
def test_a_node_holding_a_demoted_nodes_final_data_is_outranked_by_a_later_barrier_only(held, their_ms, fresher):
    theirs = Published(Position(their_ms, False, 1000), None, None, held)
    assert compare(theirs, MINE, MY_BARRIER, by_time=False) == fresher


@pytest.mark.parametrize(
    "address, offer, my_barrier, holds",
    [
        ("10.99.0.1", "2:50000:node1", MY_BARRIER, True),  # the demoted node's last commit
        ("10.99.0.1", "3:60000:node1", MY_BARRIER, False),  # a later one: not received
        ("10.99.0.1", "-", MY_BARRIER, False),  # no barrier offered: the copy decides
        ("10.99.0.1", "2:50000:node1", None, False),
        (None, None, MY_BARRIER, False),  # not a demoted node
        # A demoted node of the first version (0.1.0) offers <node>:<ms>, held here as counter 0.
        ("10.99.0.1", "node1:50000", Barrier(0, 50_000, "node1"), True),
        ("10.99.0.1", "node1:50000", MY_BARRIER, False),
    ],
)
def test_holding_a_demoted_nodes_offered_barrier_is_holding_its_final_data(address, offer, my_barrier, holds):
    theirs = Published(Position(200_000, True, 1000), address, offer, offer)
    assert holds_final_data(theirs, my_barrier) is holds


@pytest.mark.parametrize(
    "held, offered, commits",
    [
        (MY_BARRIER, "2:50000:node1", False),  # the demoted node's final barrier: no second one
        (Barrier(0, 50_000, "node1"), "node1:50000", False),  # the same, offered by a 0.1.0 node
        (MY_BARRIER, "1:40000:node1", True),
        (MY_BARRIER, None, True),  # a fail-over: nobody offered anything
        (None, "-", True),
    ],
)
def test_a_promotion_commits_its_barrier_unless_it_holds_the_one_the_demoted_node_offered(
        monkeypatch: pytest.MonkeyPatch, held: Barrier | None, offered: str | None, commits: bool) -> None:
    committed: list[str] = []
    monkeypatch.setattr(barrier, "commit", lambda cfg, otherwise: committed.append(otherwise))
    mark_promotion(None, held, offered)
    assert bool(committed) is commits


# As ovsdb-server 3.1 writes them: set, set again, then the key removed (the removed value named).
BARRIER_RECORDS = [
    '{"NB_Global":{"de69":{"external_ids":["map",[["ovndb-servers-barrier","1:5:a"]]]}},"_is_diff":true}',
    '{"NB_Global":{"de69":{"external_ids":["map",[["ovndb-servers-barrier","2:6:b"],["x","y"]]]}},"_is_diff":true}',
]


@pytest.mark.parametrize(
    "records, value",
    [
        (BARRIER_RECORDS, "2:6:b"),
        (BARRIER_RECORDS + [BARRIER_RECORDS[1]], "2:6:b"),  # a removal names the value it removed
        (BARRIER_RECORDS[:1], "1:5:a"),
        (['{"NB_Global":{"de69":{"external_ids":["map",[["other","1"]]]}}}'], None),
        (['{"NB_Global":{"de69":{"external_ids":["map",[["ovndb-servers-barrier","a\\"b"]]]}}}'], None),
        ([], None),  # an empty file
    ],
)
def test_a_database_file_is_searched_for_the_last_value_of_a_key(tmp_path, records, value):
    path = tmp_path / "ovnnb_db.db"
    path.write_text("".join(f"OVSDB JSON {len(r)} 0\n{r}\n" for r in records))
    assert ovsdb.last_map_value(str(path), barrier.KEY) == value


def test_a_missing_database_file_holds_no_value(tmp_path):
    assert ovsdb.last_map_value(str(tmp_path / "missing.db"), barrier.KEY) is None


def test_published_clients_are_bounded_ordered_and_read_back_leaving_out_garbage():
    from ocf_agents.agents.ovndb import clients

    peers = {(f"10.0.{i // 250}.{i % 250 + 1}", 40000 + i, 6642 if i % 2 else 6641) for i in range(300)}
    text = clients.format_peers(peers)
    back = clients.parse_peers(text)
    assert len(back) == clients.MAX_PEERS and set(back) <= peers
    assert [p[2] for p in back] == sorted(p[2] for p in back)  # the northbound's sessions first
    assert clients.parse_peers("10.0.0.1,1,6641 junk fd00::1,2,6642 10.0.0.2,x,6641") == [
        ("10.0.0.1", 1, 6641), ("fd00::1", 2, 6642)]


class HeldConfig:
    """What check_held_address reads of the configuration (the address is looked up in this
    host's real routing table: 127.0.0.1 is local, 192.0.2.77 is not)."""

    hold_master_ip = True

    def __init__(self, master_ip: str) -> None:
        self.master_ip = master_ip


@pytest.mark.parametrize("master_ip, rc, error", [
    ("127.0.0.1", Rc.RUNNING_PROMOTED, None),
    ("192.0.2.77", Rc.RUNNING_PROMOTED, FailedPromotedError),  # promoted without the address: 9
    ("192.0.2.77", Rc.SUCCESS, None),
    ("127.0.0.1", Rc.SUCCESS, GenericError),  # a backup holding it: 1, Pacemaker stops it
    ("127.0.0.1", Rc.NOT_RUNNING, GenericError),  # a probe finding it left behind
])
def test_a_held_master_ip_is_on_the_promoted_node_and_nowhere_else(master_ip, rc, error):
    from ocf_agents.agents.ovndb.monitor import check_held_address

    if error is None:
        check_held_address(HeldConfig(master_ip), rc)
    else:
        with pytest.raises(error, match=f"master_ip {master_ip} is"):
            check_held_address(HeldConfig(master_ip), rc)
