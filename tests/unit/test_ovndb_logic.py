"""ovndb-servers logic that needs no server: parsing, addresses, the monitor's state table,
ovn-ctl arguments, and compatibility of the parameters with OVN's own agent.

Every behaviour here is also exercised against real ovsdb-servers in
tests/integration/test_ovndb_agent.py.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from ocf_agents.agents import ovndb_servers as agent
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


def test_proc_net_tcp_addresses_are_decoded():
    assert ovsdb._proc_address("010A007F:19F9") == ("127.0.10.1", 6649)
    assert ovsdb._proc_address("00000000000000000000000001000000:19F9") == ("::1", 6649)
    assert ovsdb._proc_address("0000000000000000FFFF0000010A007F:0050") == ("127.0.10.1", 80)


# -- the monitor's table ----------------------------------------------------------------------
def _state(nb: str, sb: str, northd: bool = False) -> agent.State:
    def server(key: str, role: str) -> agent.Server:
        db = agent.Db(ovsdb.Database(key, "S", "G", "/run"), 6641, "tcp", ("", "", ""))
        status = ovsdb.SyncStatus(role, None, False) if role in ("active", "backup") else None
        return agent.Server(db, None if role == "not-running" else 1, status, None)

    return agent.State((server("nb", nb), server("sb", sb)), northd)


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
    ],
)
def test_monitor_table(nb, sb, promoted, northd_managed, northd, expected):
    state = _state(nb, sb, northd)
    try:
        rc = agent.classify(state, promoted, northd_managed)
    except (GenericError, FailedPromotedError) as err:
        rc = err.rc
        assert nb in err.reason or "northd" in err.reason or "gone" in err.reason
    assert rc == expected


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


def test_every_upstream_parameter_keeps_its_name_and_default():
    for name, default in UPSTREAM_DEFAULTS.items():
        assert agent.METADATA.parameter(name).default == default, name


@pytest.mark.skipif(not os.path.exists(UPSTREAM), reason="OVN's agent is not installed (package ovn-central)")
def test_upstream_meta_data_declares_no_parameter_we_lack():
    from lxml import etree

    xml = subprocess.run(["bash", UPSTREAM, "meta-data"], capture_output=True, text=True,
                         env={"OCF_ROOT": "/usr/lib/ocf", "__OCF_ACTION": "meta-data", "PATH": os.environ["PATH"]})
    names = etree.fromstring(xml.stdout.encode()).xpath("//parameter/@name")
    assert set(names) == set(UPSTREAM_DEFAULTS)
    assert set(names) <= {p.name for p in agent.METADATA.parameters}


def test_local_addresses_are_told_from_remote_ones_without_sending_anything():
    assert ovsdb.address_is_local("127.0.10.9") and ovsdb.address_is_local("::1")
    assert not ovsdb.address_is_local("198.51.100.77")  # TEST-NET-2: routed, never local
