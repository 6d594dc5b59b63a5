"""``ocf-agents status`` without a cluster: parsing each tool's answer, the agent's conclusions
as tables of cases, the table and JSON, and the command's exit status and messages.

The tools' answers are as Pacemaker 2.1.5 prints them (Debian 12). The last tests run the
real crm_mon, cibadmin and crm_attribute on a CIB file (``CIB_file``), attrd_updater alone
faked (it needs a running attribute daemon); tests/cluster/test_status.py runs the command
on a real cluster.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ocf_agents.agents.ovndb.metadata import METADATA
from ocf_agents.agents.ovndb.state import Server
from ocf_agents.cli import main as cli
from ocf_agents.net.tcp import TcpConnection
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.ovsdb import SyncStatus
from ocf_agents.status import read, render
from ocf_agents.status.model import (
    PROMOTED, STOPPED, UNPROMOTED, Inputs, Instance, LocalDb, Params, StatusError, complaint, conclude,
    local_db, parse_attrd, parse_crm_mon, parse_params, parse_score)

RSC = "ovndb_servers"
ATTR = f"{RSC}-data-position-private"
T = 1_765_130_000_000  # a published position (ms since the epoch)

# crm_mon -1 --output-as=xml of a 3-node lab (Pacemaker 2.1.5), trimmed: node3 in standby
# with a failed instance, node4 offline.
CRM_MON = f"""<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <summary><current_dc present="true" version="2.1.5-a3f44794f94" name="node2" id="2"/></summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" maintenance="false" unclean="false" type="member"/>
    <node name="node2" id="2" online="true" standby="false" maintenance="false" unclean="false" type="member"/>
    <node name="node3" id="3" online="true" standby="true" maintenance="false" unclean="false" type="member"/>
    <node name="node4" id="4" online="false" standby="false" maintenance="false" unclean="false" type="member"/>
  </nodes>
  <resources>
    <resource id="lab-fence" resource_agent="stonith:fence_ocfalab" role="Started" failed="false">
      <node name="node2" id="2" cached="true"/></resource>
    <clone id="{RSC}-clone" multi_state="true" unique="false" failed="false">
      <resource id="{RSC}" resource_agent="ocf:ovsha:ovndb-servers" role="Promoted" failed="false">
        <node name="node1" id="1" cached="true"/></resource>
      <resource id="{RSC}" resource_agent="ocf:ovsha:ovndb-servers" role="Unpromoted" failed="false">
        <node name="node2" id="2" cached="true"/></resource>
      <resource id="{RSC}" resource_agent="ocf:ovsha:ovndb-servers" role="Unpromoted" failed="true">
        <node name="node3" id="3" cached="true"/></resource>
      <resource id="{RSC}" resource_agent="ocf:ovsha:ovndb-servers" role="Stopped" failed="false"/>
    </clone>
    <resource id="{RSC}-vip" resource_agent="ocf:heartbeat:IPaddr2" role="Started" failed="false">
      <node name="node1" id="1" cached="true"/></resource>
  </resources>
</pacemaker-result>"""

CIB_RESOURCES = f"""<resources>
  <clone id="{RSC}-clone">
    <primitive id="{RSC}" class="ocf" provider="ovsha" type="ovndb-servers">
      <instance_attributes id="{RSC}-instance_attributes">
        <nvpair id="{RSC}-ia-master_ip" name="master_ip" value="10.99.0.10"/>
        <nvpair id="{RSC}-ia-stale_score" name="stale_score" value="2"/>
      </instance_attributes>
    </primitive>
    <meta_attributes id="{RSC}-clone-meta"><nvpair id="m1" name="promotable" value="true"/></meta_attributes>
  </clone>
</resources>"""

ATTRD = (f'name="{ATTR}" host="node1" value="{T} promoted 15000 10.99.0.1 held=3:{T - 9000}:node2"\n'
         f'name="{ATTR}" host="node2" value="{T - 200} backup 7000 held=3:{T - 9000}:node2"\n'
         f'name="{ATTR}" host="node3" value=""\n')
PARAMS = Params("10.99.0.10", "/var/run/ovn", "/var/lib/ovn", 5, 1)
# CIB_RESOURCES's: master_ip and stale_score set, the agent's defaults for the others
CONFIGURED = Params("10.99.0.10", "/var/run/ovn", "/var/lib/ovn",
                    int(METADATA.parameter("replicating_score").default or 0), 2)


# -- parsing -----------------------------------------------------------------------------------
def test_crm_mon_gives_each_node_its_role_standby_and_failure() -> None:
    assert parse_crm_mon(CRM_MON, RSC) == (
        Instance("node1", True, False, PROMOTED, False), Instance("node2", True, False, UNPROMOTED, False),
        Instance("node3", True, True, UNPROMOTED, True), Instance("node4", False, False, STOPPED, False))


@pytest.mark.parametrize("xml, resource, error", [
    (CRM_MON, "other", "crm_mon lists no resource 'other' (see --resource)"),
    ("crm_mon: not XML", RSC, "crm_mon printed no XML"),
])
def test_crm_mon_without_the_resource_is_an_error(xml: str, resource: str, error: str) -> None:
    with pytest.raises(StatusError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse_crm_mon(xml, resource)


def test_the_old_role_names_are_the_new_ones() -> None:
    old = CRM_MON.replace('role="Promoted"', 'role="Master"').replace('role="Unpromoted"', 'role="Slave"')
    assert parse_crm_mon(old, RSC) == parse_crm_mon(CRM_MON, RSC)


@pytest.mark.parametrize("text, expected", [
    (ATTRD, {"node1": f"{T} promoted 15000 10.99.0.1 held=3:{T - 9000}:node2",
             "node2": f"{T - 200} backup 7000 held=3:{T - 9000}:node2"}),
    ("", {}),
    (f'name="{ATTR}" host="node1" value="1 backup 0 held=-"', {"node1": "1 backup 0 held=-"}),
    ('garbage\nname="x" host="n&amp;1" value="a &quot;b&quot;"', {"n&1": 'a "b"'}),
])
def test_attrd_updater_all_nodes(text: str, expected: dict[str, str]) -> None:
    assert parse_attrd(text) == expected


@pytest.mark.parametrize("text, score", [("5\n", 5), ("-INFINITY", None), ("", None), ("10", 10)])
def test_a_promotion_score(text: str, score: int | None) -> None:
    assert parse_score(text) == score


def test_the_resource_parameters_with_the_agents_defaults() -> None:
    assert parse_params(CIB_RESOURCES, RSC) == CONFIGURED


@pytest.mark.parametrize("xml, error", [
    (CIB_RESOURCES.replace(f'primitive id="{RSC}"', 'primitive id="x"'), "the CIB has no primitive 'ovndb_servers'"),
    (CIB_RESOURCES.replace('value="2"', 'value="many"'), "resource ovndb_servers: Parameter stale_score='many'"),
    ("<resources", "cibadmin printed no XML"),
])
def test_parameters_that_cannot_be_read(xml: str, error: str) -> None:
    with pytest.raises(StatusError, match=error):
        parse_params(xml, RSC)


@pytest.mark.parametrize("stdout, stderr, said", [
    ('<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">\n  <status code="102" '
     'message="Not connected">\n    <errors>\n      <error>error: Could not connect to launcher</error>\n'
     '      <error>crm_mon: Connection to cluster failed: Connection refused</error>\n    </errors>\n  </status>\n'
     '</pacemaker-result>\n', "", "crm_mon: Connection to cluster failed: Connection refused"),
    ('<pacemaker-result><status code="105" message="No such object"/></pacemaker-result>', "", "No such object"),
    ("", "Could not connect to the CIB: Transport endpoint is not connected\n",
     "Could not connect to the CIB: Transport endpoint is not connected"),
    ("", "", ""),
])
def test_what_a_failed_tool_said(stdout: str, stderr: str, said: str) -> None:
    assert complaint(stdout, stderr) == said


NB = ovsdb.databases("/var/run/ovn")[0]
LINK = TcpConnection(("10.99.0.2", 50000), ("10.99.0.1", 6641), 0, 0)


@pytest.mark.parametrize("server, db", [
    (Server(NB, None, None, None), LocalDb("northbound", "not-running", None, None)),
    (Server(NB, 42, None, None), LocalDb("northbound", "not-answering", None, None)),
    (Server(NB, 42, SyncStatus("active", None, False), None), LocalDb("northbound", "active", None, None)),
    (Server(NB, 42, SyncStatus("backup", "tcp:10.99.0.1:6641", True), LINK),
     LocalDb("northbound", "backup", "10.99.0.1", True)),
    (Server(NB, 42, SyncStatus("backup", "tcp:10.99.0.254:6641", False), None),
     LocalDb("northbound", "backup", "10.99.0.254", False)),
])
def test_a_server_of_this_node_as_the_monitor_reads_it(server: Server, db: LocalDb) -> None:
    assert local_db(server) == db


# -- conclusions -------------------------------------------------------------------------------
BACKUPS = (LocalDb("northbound", "backup", "10.99.0.1", True), LocalDb("southbound", "backup", "10.99.0.1", True))


def inputs(roles: dict[str, str], published: dict[str, str], scores: dict[str, int | None] | None = None,
           local: tuple[LocalDb, ...] = BACKUPS, online: tuple[str, ...] = ("node1", "node2", "node3")) -> Inputs:
    instances = tuple(Instance(node, node in online, False, role, False) for node, role in roles.items())
    scores = scores if scores is not None else {node: 10 if role == PROMOTED else 5 for node, role in roles.items()}
    return Inputs(RSC, PARAMS, instances, scores, published, "node2", local)


HEALTHY = {"node1": f"{T} promoted 15000 10.99.0.1 held=3:{T - 9000}:node2",
           "node2": f"{T - 200} backup 7000 held=3:{T - 9000}:node2",
           "node3": f"{T - 300} backup 7000 held=3:{T - 9000}:node2"}
ROLES = {"node1": PROMOTED, "node2": UNPROMOTED, "node3": UNPROMOTED}
STALE3 = {"node1": 10, "node2": 5, "node3": 1}  # node3 not connected at its last monitor


@pytest.mark.parametrize("case, given, node, behind, why_not", [
    ("healthy", inputs(ROLES, HEALTHY), "node2", 200, ()),
    ("healthy, not this node", inputs(ROLES, HEALTHY), "node3", 300, ()),
    ("stale score", inputs(ROLES, HEALTHY, {"node1": 10, "node2": 5, "node3": 1}), "node3", 300,
     ("stale score 1 (a replicating backup has 5)",)),
    ("a lower score, not stale (an agent of another version's)",
     inputs(ROLES, HEALTHY, {"node1": 10, "node2": 5, "node3": 3}), "node3", 300,
     ("score 3, below a replicating backup's 5",)),
    ("no score", inputs(ROLES, HEALTHY, {"node1": 10, "node2": 5, "node3": None}), "node3", 300, ("no promotion score",)),
    ("older barrier", inputs(ROLES, {**HEALTHY, "node3": f"{T - 300} backup 7000 held=2:{T - 99000}:node1"}, STALE3),
     "node3", 300, ("stale score 1 (a replicating backup has 5)",
                    f"older data than node1 (barrier 3:{T - 9000}:node2 against 2:{T - 99000}:node1 here)",
                    f"older data than node2 (barrier 3:{T - 9000}:node2 against 2:{T - 99000}:node1 here)")),
    ("older position, same barrier", inputs(ROLES, {**HEALTHY, "node3": f"{T - 60000} backup 7000 held=3:{T - 9000}:node2"},
                                            STALE3),
     "node3", 60000, ("stale score 1 (a replicating backup has 5)",
                      "older data than node1 (position 1765130000000 > 1765129940000, monitor intervals 15000/7000 ms)",
                      "older data than node2 (position 1765129999800 > 1765129940000, monitor intervals 7000/7000 ms)")),
    ("lost the last election, replicating since: its published barrier is the election's",
     inputs(ROLES, {**HEALTHY, "node3": f"{T - 300} backup 7000 held=2:{T - 99000}:node1"}), "node3", 300, ()),
    ("not connected here", inputs(ROLES, HEALTHY, local=(BACKUPS[0], LocalDb("southbound", "backup", "10.99.0.1", False))),
     "node2", 200, ("southbound not connected to 10.99.0.1",)),
    ("replicating from elsewhere", inputs(ROLES, HEALTHY, local=(LocalDb("northbound", "backup", "10.99.0.254", False),
                                                                 BACKUPS[1])),
     "node2", 200, ("northbound replicates from 10.99.0.254, not 10.99.0.1",)),
    ("active here", inputs(ROLES, HEALTHY, local=(LocalDb("northbound", "active", None, None), BACKUPS[1])),
     "node2", 200, ("northbound active",)),
    ("offline", inputs(ROLES, HEALTHY, online=("node1", "node2")), "node3", 300, ("offline",)),
    ("stopped, nothing published", inputs({**ROLES, "node3": STOPPED}, {k: v for k, v in HEALTHY.items() if k != "node3"},
                                          {"node1": 10, "node2": 5, "node3": None}),
     "node3", None, ("instance stopped", "no promotion score")),
    ("rejoined since the election: publishes at the next", inputs(ROLES, {k: v for k, v in HEALTHY.items() if k != "node3"}),
     "node3", None, ()),
    ("published after the promoted node: not behind", inputs(ROLES, {**HEALTHY, "node3": f"{T + 400} backup 7000 held=3:"
                                                                                 f"{T - 9000}:node2"}), "node3", 0, ()),
    # 0.1.0's form (no held=), still published by an upgraded node until the next election:
    # its barrier is unknown, not none; the times decide.
    ("published by 0.1.0: barrier unknown", inputs(ROLES, {**HEALTHY, "node3": f"{T - 300} backup 7000 10.99.0.3"}),
     "node3", 300, ()),
    ("published by 0.1.0, an older position", inputs(ROLES, {**HEALTHY, "node3": f"{T - 60000} backup 7000"}, STALE3),
     "node3", 60000, ("stale score 1 (a replicating backup has 5)", "older data than node1 (position 1765130000000 > 1765129940000, monitor intervals 15000/7000 ms)",
             "older data than node2 (position 1765129999800 > 1765129940000, monitor intervals 7000/7000 ms)")),
])
def test_what_the_agent_concludes_of_a_backup(case: str, given: Inputs, node: str, behind: int | None,
                                              why_not: tuple[str, ...]) -> None:
    status = conclude(given)
    found = next(n for n in status.nodes if n.instance.node == node)
    assert (found.behind_ms, found.why_not, found.promotable) == (behind, why_not, not why_not), case
    assert (status.promoted, status.source) == ("node1", "10.99.0.1")


def test_the_promoted_node_is_neither_behind_nor_promotable_and_only_this_node_shows_databases() -> None:
    status = conclude(inputs(ROLES, HEALTHY))
    promoted, here, other = status.nodes
    assert (promoted.behind_ms, promoted.promotable, promoted.why_not) == (None, None, ())
    assert (here.databases, other.databases, promoted.databases) == (BACKUPS, None, None)


@pytest.mark.parametrize("published, source", [
    ({**HEALTHY, "node1": f"{T} promoted 15000"}, "10.99.0.10"),  # no address published: master_ip
    ({}, "10.99.0.10"),
])
def test_the_backups_source_without_a_published_address_is_master_ip(published: dict[str, str], source: str) -> None:
    assert conclude(inputs(ROLES, published)).source == source


def test_no_promoted_node() -> None:
    status = conclude(inputs({"node1": UNPROMOTED, "node2": UNPROMOTED}, {}, local=()))
    assert (status.promoted, status.source) == (None, None)
    assert [(n.why_not, n.promotable, n.behind_ms) for n in status.nodes] == [((), True, None)] * 2


# -- rendering ---------------------------------------------------------------------------------
def test_the_table_shows_every_node_and_why_one_may_not_be_promoted() -> None:
    status = conclude(inputs(ROLES, HEALTHY, {"node1": 10, "node2": 5, "node3": 1})._replace(
        recorded=f"{T + 6000} backup 7000"))
    lines = render.text(status).splitlines()
    assert lines[0] == "ovndb_servers: node1 promoted, the backups replicate from 10.99.0.1"
    assert lines[1].split() == ["NODE", "ROLE", "SCORE", "LISTENS", "ON", "HELD", "POSITION", "BEHIND", "PROMOTABLE"]
    cells = {line.split()[0]: line.split() for line in lines[2:5]}
    assert cells["node1"][1:5] == ["Promoted", "10", "10.99.0.1", f"3:{T - 9000}:node2"]
    assert cells["node1"][-2:] == ["-", "-"]
    assert cells["node2*"][1:5] == ["Unpromoted", "5", "-", f"3:{T - 9000}:node2"]
    assert cells["node2*"][-3:] == ["200", "ms", "yes"] and cells["node3"][-3:] == ["300", "ms", "no"]
    assert render.when(T - 200) in lines[3]
    assert lines[5] == "node3 may not be promoted: stale score 1 (a replicating backup has 5)"
    assert lines[6:] == ["databases on node2 (this node):", "  northbound  backup from 10.99.0.1, connected",
                         "  southbound  backup from 10.99.0.1, connected",
                         f"  data position recorded here: {render.when(T + 6000)} (backup, monitor every 7000 ms)"]
    assert max(len(line) for line in lines) <= render.WIDTH


def test_the_table_shows_a_barrier_not_published_by_0_1_0_as_unknown() -> None:
    status = conclude(inputs(ROLES, {**HEALTHY, "node3": f"{T - 300} backup 7000", "node2": f"{T - 200} backup 7000 held=-"}))
    cells = {line.split()[0]: line.split() for line in render.text(status).splitlines()[2:5]}
    assert (cells["node2*"][4], cells["node3"][4]) == ("-", "?")  # none held; not published (0.1.0)


def test_the_table_of_an_offline_node_and_what_could_not_be_read() -> None:
    given = inputs(ROLES, {}, online=("node1", "node2"), local=(LocalDb("northbound", "not-running", None, None),))
    lines = render.text(conclude(given._replace(problems=("node3's promotion score: 'crm_attribute' exited 102",)))).splitlines()
    assert lines[0] == "ovndb_servers: node1 promoted, the backups replicate from 10.99.0.10"
    assert lines[4].split()[:2] == ["node3", "offline"]
    assert "  northbound  not-running" in lines and "  data position recorded here: none" in lines
    assert lines[-1] == "could not read node3's promotion score: 'crm_attribute' exited 102"


@pytest.mark.parametrize("ms, shown", [(0, "never"), (T, render.when(T))])
def test_a_position_never_recorded_is_never(ms: int, shown: str) -> None:
    assert render.when(ms) == shown and (ms == 0 or shown.endswith(".000"))


def test_the_json_names_every_field() -> None:
    data = json.loads(render.as_json(conclude(inputs(ROLES, HEALTHY))))
    assert (data["resource"], data["local_node"], data["promoted"], data["replication_source"]) == \
        (RSC, "node2", "node1", "10.99.0.1")
    node1, node2, node3 = data["nodes"]
    assert node1["published"] == {"text": HEALTHY["node1"], "position_ms": T, "position_promoted": True,
                                  "interval_ms": 15000, "address": "10.99.0.1", "offer": None,
                                  "held": f"3:{T - 9000}:node2"}
    assert (node1["role"], node1["promotable"], node1["databases"]) == (PROMOTED, None, None)
    assert (node2["behind_ms"], node2["promotable"], node2["why_not"], node2["score"]) == (200, True, [], 5)
    assert node2["databases"][0] == {"title": "northbound", "state": "backup", "source": "10.99.0.1",
                                     "connected": True}
    assert node3["databases"] is None and data["problems"] == [] and data["recorded_position"] is None


# -- the command: outside calls faked, exit status and messages ----------------------------------
def fake_cluster(fp, cib: str = CIB_RESOURCES, crm_mon: str = CRM_MON, score_rc: int = 0) -> None:
    fp.register(["crm_mon", "-1", "--output-as=xml"], stdout=crm_mon)
    fp.register(["cibadmin", "--query", "--scope", "resources"], stdout=cib)
    fp.register(["crm_node", "-n"], stdout="node2\n")
    fp.register(["attrd_updater", "-Q", "-A", "-n", ATTR], stdout=ATTRD)
    for node, score in (("node1", "10"), ("node2", "5"), ("node3", "1"), ("node4", "")):
        fp.register(["crm_attribute", f"--promotion={RSC}", "-N", node, "-G", "-q"], stdout=score + "\n",
                    returncode=score_rc if node == "node3" else 0 if score else 105,
                    stderr="Could not connect to the CIB\n" if score_rc else "")


def test_the_command_reads_every_node(fp, capsys, tmp_path: Path, monkeypatch) -> None:
    fake_cluster(fp, CIB_RESOURCES.replace('<nvpair id="ovndb_servers-ia-stale_score" name="stale_score" value="2"/>',
                                           f'<nvpair id="r" name="ovn_rundir" value="{tmp_path}"/>'
                                           f'<nvpair id="d" name="ovn_dbdir" value="{tmp_path}"/>'
                                           '<nvpair id="s" name="replicating_score" value="5"/>'))
    (tmp_path / "ovndb-servers.position").write_text(f"{T} backup 7000\n")
    assert cli(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recorded_position"] == {"ms": T, "promoted": False, "interval_ms": 7000}
    assert [(n["name"], n["role"], n["score"]) for n in data["nodes"]] == [
        ("node1", PROMOTED, 10), ("node2", UNPROMOTED, 5), ("node3", UNPROMOTED, 1), ("node4", STOPPED, None)]
    assert data["nodes"][1]["databases"] == [  # no server runs in tmp_path
        {"title": "northbound", "state": "not-running", "source": None, "connected": None},
        {"title": "southbound", "state": "not-running", "source": None, "connected": None}]
    assert data["nodes"][2]["why_not"][:3] == ["in standby", "instance failed", "stale score 1 (a replicating backup has 5)"]


def test_a_node_that_cannot_be_read_is_shown_as_such_with_status_3(fp, capsys) -> None:
    fake_cluster(fp, score_rc=102)
    assert cli(["status"]) == 3
    out = capsys.readouterr().out
    assert " ".join(out.split()).endswith("could not read node3's promotion score: 'crm_attribute --promotion=ovndb_servers "
                                    "-N node3 -G -q' exited 102: Could not connect to the CIB")
    assert max(len(line) for line in out.splitlines()) <= render.WIDTH


@pytest.mark.parametrize("register, message", [
    (lambda fp: fp.register(["crm_mon", "-1", "--output-as=xml"], returncode=102, stdout=CRM_MON.replace(
        "<summary>", '<status code="102" message="Not connected"><errors><error>crm_mon: Connection to cluster '
        'failed: Connection refused</error></errors></status><summary>')),
     "ocf-agents status: cannot read the cluster: 'crm_mon -1 --output-as=xml' exited 102: crm_mon: Connection to "
     "cluster failed: Connection refused"),
    (lambda fp: fp.register(["crm_mon", "-1", "--output-as=xml"], callback=not_installed),
     "ocf-agents status: crm_mon is not installed here: run this on a cluster node"),
    (lambda fp: fp.register(["crm_mon", "-1", "--output-as=xml"], stdout=CRM_MON.replace(RSC, "other")),
     "ocf-agents status: crm_mon lists no resource 'ovndb_servers' (see --resource)"),
])
def test_a_cluster_that_cannot_be_read_is_one_line_and_status_1(fp, capsys, register, message: str) -> None:
    register(fp)
    assert cli(["status"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", message + "\n")


def not_installed(process) -> None:
    raise FileNotFoundError("crm_mon")


def hangs(process) -> None:
    raise subprocess.TimeoutExpired(process.args, 0.1)


def test_a_tool_that_does_not_answer_is_named(fp) -> None:
    fp.register(["crm_mon", "-1", "--output-as=xml"], callback=hangs)
    with pytest.raises(StatusError, match=r"'crm_mon -1 --output-as=xml' did not answer within 0.1 s"):
        read.run(["crm_mon", "-1", "--output-as=xml"], timeout=0.1)


# -- the real Pacemaker tools on a CIB file -----------------------------------------------------
def test_the_real_tools_on_a_cib_file(cib_file: Path, fp, monkeypatch, tmp_path: Path) -> None:
    """cibadmin, crm_mon and crm_attribute answer as the parsers expect (attrd_updater needs a
    daemon: faked). On a CIB file no instance has run: every node's instance is Stopped."""
    fp.allow_unregistered(True)
    fp.pass_command([fp.program("cibadmin"), fp.any()])
    fp.pass_command([fp.program("crm_mon"), fp.any()])
    fp.pass_command([fp.program("crm_attribute"), fp.any()])
    fp.pass_command([fp.program("crm_node"), fp.any()])
    fp.register(["attrd_updater", "-Q", "-A", "-n", ATTR], returncode=78)
    primitive = CIB_RESOURCES.split("<resources>")[1].split("</resources>")[0]
    subprocess.run(["cibadmin", "--create", "-o", "resources", "-X", primitive], check=True, capture_output=True)
    peer = "peer"
    subprocess.run(["crm_attribute", f"--promotion={RSC}", "-N", peer, "-v", "5"], check=True, capture_output=True)
    given = read.read_all(RSC)
    assert given.params == CONFIGURED
    assert {i.node: i.role for i in given.instances}[peer] == STOPPED
    assert given.scores[peer] == 5 and set(given.scores.values()) == {5, None}
    assert (given.published, given.problems) == ({}, ())
