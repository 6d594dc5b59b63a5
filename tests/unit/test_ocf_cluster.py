"""Promotion scores, node attributes and cluster properties through crm_attribute.

The first half fakes the cluster tools (pytest-subprocess) to pin down the exact commands and
how their exit codes are read; the second half runs the real crm_attribute, crm_master and
crm_node on a CIB file, and with no cluster at all, for every behaviour the fakes assume.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ocf_agents.ocf.cluster import Cluster, ClusterUnreachable, parse_locations
from ocf_agents.ocf.env import Environment
from ocf_agents.ocf.log import Logger
from ocf_agents.ocf.run import Budget, Runner

REPO = Path(__file__).resolve().parents[2]
META = "OCF_RESKEY_CRM_meta_"
BUNDLE = {META + "container_attribute_target": "host", META + "physical_host": "metal1"}
PROMOTION = ["crm_attribute", "--promotion=rsc"]
NOT_CONNECTED = "crm_attribute: Could not connect to the CIB: Transport endpoint is not connected\n"


def cluster(**environ: str) -> Cluster:
    env = Environment({"OCF_RESOURCE_INSTANCE": "rsc:0"} | environ)
    return Cluster(Runner(Budget(30.0), Logger({}, "test")), env)


# -- fakes: the commands and the reading of exit codes ----------------------------------------
def test_the_promotion_score_is_read_for_the_resource_without_its_clone_suffix(fp) -> None:
    fp.register(PROMOTION + ["-G", "-q"], stdout="5\n")
    assert cluster().promotion_score() == 5


def test_no_promotion_score_is_none(fp) -> None:
    fp.register(PROMOTION + ["-G", "-q"], returncode=105, stderr="Error performing operation: No such device")
    assert cluster().promotion_score() is None


def test_an_unreachable_cluster_is_an_error_not_a_missing_score(fp) -> None:
    fp.register(PROMOTION + ["-G", "-q"], returncode=102, stderr=NOT_CONNECTED)
    expected = "Could not read the promotion score: .* exited 102: .*not connected"
    with pytest.raises(ClusterUnreachable, match=expected):
        cluster().promotion_score()


def test_the_promotion_score_is_written_only_when_it_changes(fp) -> None:
    fp.register(PROMOTION + ["-G", "-q"], stdout="5\n", occurrences=2)
    fp.register(PROMOTION + ["-v", "10"])
    agent = cluster()
    assert agent.set_promotion_score(5) is False
    assert agent.set_promotion_score(10) is True
    assert fp.call_count(PROMOTION + ["-v", "10"]) == 1
    assert fp.call_count(PROMOTION + ["-v", "5"]) == 0


def test_a_known_different_promotion_score_is_written_without_reading_it_first(fp) -> None:
    fp.register(PROMOTION + ["-v", "10"])
    assert cluster().set_promotion_score(10, known=5) is True
    assert fp.call_count(PROMOTION + ["-G", "-q"]) == 0
    assert fp.call_count(PROMOTION + ["-v", "10"]) == 1


def test_a_known_equal_promotion_score_is_still_checked_against_the_cib(fp) -> None:
    fp.register(PROMOTION + ["-G", "-q"], stdout="5\n")
    fp.register(PROMOTION + ["-v", "10"])
    assert cluster().set_promotion_score(10, known=10) is True
    assert fp.call_count(PROMOTION + ["-G", "-q"]) == 1


def test_a_failed_promotion_score_update_is_an_error(fp) -> None:
    fp.register(PROMOTION + ["-G", "-q"], returncode=105)
    fp.register(PROMOTION + ["-v", "10"], returncode=102, stderr=NOT_CONNECTED)
    with pytest.raises(ClusterUnreachable, match="Could not set the promotion score"):
        cluster().set_promotion_score(10)


@pytest.mark.parametrize(
    "feature_set, argv",
    [
        ("3.9.0", ["crm_master", "-l", "reboot", "-r", "rsc"]),
        ("3.0.14", ["crm_master", "-l", "reboot", "-r", "rsc"]),
        ("3.10.0", PROMOTION),
        ("3.16.1", PROMOTION),
        ("", PROMOTION),
    ],
)
def test_crm_master_is_the_fallback_before_feature_set_3_10(fp, feature_set: str, argv: list[str]) -> None:
    fp.register(argv + ["-G", "-q"], stdout="3\n")
    assert cluster(OCF_RESKEY_crm_feature_set=feature_set).promotion_score() == 3


def test_in_a_bundle_the_score_is_keyed_by_the_physical_host(fp) -> None:
    fp.register(PROMOTION + ["-N", "metal1", "-D"])
    cluster(**BUNDLE).delete_promotion_score()
    assert fp.call_count(PROMOTION + ["-N", "metal1", "-D"]) == 1


@pytest.mark.parametrize("rc", [0, 105])
def test_deleting_the_promotion_score_tolerates_it_being_gone(fp, rc: int) -> None:
    fp.register(PROMOTION + ["-D"], returncode=rc)
    cluster().delete_promotion_score()


def test_deleting_without_a_cluster_is_an_error(fp) -> None:
    fp.register(PROMOTION + ["-D"], returncode=102, stderr=NOT_CONNECTED)
    with pytest.raises(ClusterUnreachable, match="Could not delete the promotion score"):
        cluster().delete_promotion_score()


def test_the_node_name_in_a_bundle_is_the_physical_host_without_asking_crm_node(fp) -> None:
    assert cluster(**BUNDLE).node_name() == "metal1"
    assert fp.call_count(["crm_node", "-n"]) == 0


def test_the_node_name_pacemaker_gives_the_action_comes_next(fp) -> None:
    assert cluster(**{META + "on_node": "node-b"}).node_name() == "node-b"
    assert cluster(**BUNDLE, **{META + "on_node": "node-b"}).node_name() == "metal1"
    assert fp.call_count(["crm_node", "-n"]) == 0


def test_the_node_name_comes_from_crm_node_once(fp) -> None:
    fp.register(["crm_node", "-n"], stdout="node-a\n")
    agent = cluster()
    assert (agent.node_name(), agent.node_name()) == ("node-a", "node-a")
    assert fp.call_count(["crm_node", "-n"]) == 1


@pytest.mark.parametrize("rc, stdout", [(102, ""), (0, "\n")])
def test_the_node_name_falls_back_to_uname_when_crm_node_cannot_tell(fp, rc: int, stdout: str) -> None:
    fp.register(["crm_node", "-n"], returncode=rc, stdout=stdout)
    assert cluster().node_name() == os.uname().nodename


def test_node_attributes_are_read_written_and_deleted_on_this_node(fp) -> None:
    fp.register(["crm_node", "-n"], stdout="node-a\n")
    base = ["crm_attribute", "-N", "node-a", "-n", "fresh", "-l", "reboot"]
    fp.register(base + ["-v", "yes"])
    fp.register(base + ["-G", "-q"], stdout="yes\n")
    fp.register(base + ["-D"])
    agent = cluster()
    agent.set_node_attribute("fresh", "yes")
    assert agent.node_attribute("fresh") == "yes"
    agent.delete_node_attribute("fresh")
    assert fp.call_count(base + ["-D"]) == 1


def test_node_attributes_of_another_node_and_lifetime(fp) -> None:
    fp.register(["crm_attribute", "-N", "n2", "-n", "site", "-l", "forever", "-G", "-q"], returncode=105)
    assert cluster().node_attribute("site", node="n2", lifetime="forever") is None


def test_cluster_properties_are_read_and_written_in_crm_config(fp) -> None:
    fp.register(["crm_attribute", "-t", "crm_config", "-n", "stonith-enabled", "-G", "-q"], stdout="false\n")
    fp.register(["crm_attribute", "-t", "crm_config", "-n", "stonith-enabled", "-v", "true"])
    agent = cluster()
    assert agent.cluster_property("stonith-enabled") == "false"
    agent.set_cluster_property("stonith-enabled", "true")


def test_a_failed_attribute_update_is_an_error(fp) -> None:
    argv = ["crm_attribute", "-t", "crm_config", "-n", "x", "-v", "1"]
    fp.register(argv, returncode=102, stderr=NOT_CONNECTED)
    with pytest.raises(ClusterUnreachable, match="Could not set cluster property x"):
        cluster().set_cluster_property("x", "1")


def test_the_promotion_score_of_another_node(fp) -> None:
    fp.register(PROMOTION + ["-N", "n2", "-G", "-q"], stdout="1\n")
    fp.register(PROMOTION + ["-N", "n2", "-v", "5"])
    assert cluster().set_promotion_score(5, node="n2") is True
    assert fp.call_count(PROMOTION + ["-N", "n2", "-v", "5"]) == 1


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> None:
    """A live cluster, not a CIB file: private attributes go to attrd."""
    monkeypatch.delenv("CIB_file", raising=False)


def test_private_attributes_go_through_attrd_and_are_keyed_by_node(fp, live) -> None:
    fp.register(["crm_node", "-n"], stdout="node-a\n")
    fp.register(["attrd_updater", "-p", "-n", "pos", "-U", "12 7000", "-N", "node-a"])
    fp.register(["attrd_updater", "-Q", "-n", "pos", "-N", "node-b"], stdout='name="pos" host="node-b" value="12 7000"\n')
    agent = cluster()
    agent.set_private_attribute("pos", "12 7000")
    assert agent.private_attribute("pos", node="node-b") == "12 7000"
    assert fp.call_count(["attrd_updater", "-p", "-n", "pos", "-U", "12 7000", "-N", "node-a"]) == 1


@pytest.mark.parametrize("rc, stdout", [(78, ""), (105, ""), (0, 'name="pos" host="node-b" value=""\n')])
def test_a_missing_or_emptied_private_attribute_is_none(fp, live, rc: int, stdout: str) -> None:
    fp.register(["attrd_updater", "-Q", "-n", "pos", "-N", "node-b"], returncode=rc, stdout=stdout)
    assert cluster().private_attribute("pos", node="node-b") is None


@pytest.mark.parametrize("verb", ["read", "set"])
def test_private_attributes_without_attrd_are_an_error(fp, live, verb: str) -> None:
    fp.register(["attrd_updater", fp.any()], returncode=102, stderr="attrd_updater: Could not connect to attrd\n")
    agent = cluster(**{META + "on_node": "node-a"})
    with pytest.raises(ClusterUnreachable, match=f"Could not {verb} private attribute pos: .* exited 102"):
        agent.private_attribute("pos") if verb == "read" else agent.set_private_attribute("pos", "1")


LOCATE = ["crm_resource", "--locate", "-r", "rsc"]
LOCATED = """resource rsc is running on: node3
resource rsc is running on: node1 Promoted
resource rsc is running on: node2
"""


def test_where_a_clone_runs_with_the_promoted_instance_named() -> None:
    assert parse_locations(LOCATED) == {"node3": "", "node1": "Promoted", "node2": ""}
    assert parse_locations("resource rsc is running on: node1 Master\n") == {"node1": "Promoted"}
    assert parse_locations("resource rsc is NOT running\n") == {}


def test_the_resource_is_located_by_its_name_without_the_clone_suffix(fp) -> None:
    fp.register(LOCATE, stdout=LOCATED)
    assert cluster().locate() == {"node3": "", "node1": "Promoted", "node2": ""}


def test_locating_without_a_cluster_is_an_error(fp) -> None:
    fp.register(LOCATE, returncode=102, stderr=NOT_CONNECTED)
    with pytest.raises(ClusterUnreachable, match="Could not locate resource rsc: .* exited 102"):
        cluster().locate()


# -- the real tools on a CIB file ------------------------------------------------------------
def cib_score(cib_file: Path, node: str) -> str | None:
    """The promotion score of rsc on node as the CIB file holds it (read with crm_attribute)."""
    result = subprocess.run(
        PROMOTION + ["-N", node, "-G", "-q"], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None


def test_real_promotion_score_get_set_delete(cib_file: Path) -> None:
    agent = cluster()
    assert agent.promotion_score() is None
    assert agent.set_promotion_score(5) is True
    assert agent.promotion_score() == 5
    assert cib_score(cib_file, socket.gethostname()) == "5"
    agent.delete_promotion_score()
    assert agent.promotion_score() is None
    agent.delete_promotion_score()  # already gone: still fine


def test_real_unchanged_promotion_score_leaves_the_cib_untouched(cib_file: Path) -> None:
    agent = cluster()
    agent.set_promotion_score(5)
    before = cib_file.read_bytes()
    assert agent.set_promotion_score(5) is False
    assert cib_file.read_bytes() == before
    assert agent.set_promotion_score(10) is True
    assert cib_file.read_bytes() != before


def test_real_crm_master_fallback_writes_the_same_score(cib_file: Path) -> None:
    old = cluster(OCF_RESKEY_crm_feature_set="3.9.0")
    assert old.set_promotion_score(7) is True
    assert cluster().promotion_score() == 7
    old.delete_promotion_score()
    assert cluster().promotion_score() is None


def test_real_updates_run_together_all_land_in_a_cib_file(cib_file: Path) -> None:
    """Against a CIB file each tool rewrites the whole file: updates run at once would lose
    one another, so Cluster.concurrently runs them in turn there."""
    agent = cluster()
    agent.concurrently(lambda: agent.set_cluster_property("ocfa-test-property", "on"),
                       lambda: agent.set_promotion_score(5, known=0),
                       lambda: agent.set_node_attribute("fresh", "yes"))
    assert agent.cluster_property("ocfa-test-property") == "on"
    assert (agent.promotion_score(), agent.node_attribute("fresh")) == (5, "yes")


def test_real_bundle_score_goes_to_the_physical_host(cib_file: Path) -> None:
    bundle = {META + "container_attribute_target": "host", META + "physical_host": "peer"}
    cluster(**bundle).set_promotion_score(3)
    assert cib_score(cib_file, "peer") == "3"
    assert cib_score(cib_file, socket.gethostname()) is None


def test_real_node_attributes(cib_file: Path) -> None:
    agent = cluster()
    assert agent.node_attribute("fresh") is None
    agent.set_node_attribute("fresh", "yes")
    agent.set_node_attribute("site", "b", node="peer", lifetime="forever")
    assert agent.node_attribute("fresh") == "yes"
    assert agent.node_attribute("fresh", node="peer") is None
    assert agent.node_attribute("site", node="peer", lifetime="forever") == "b"
    agent.delete_node_attribute("fresh")
    agent.delete_node_attribute("fresh")
    assert agent.node_attribute("fresh") is None


def test_real_private_attributes_on_a_cib_file_are_transient_attributes(cib_file: Path) -> None:
    agent = cluster()
    assert agent.private_attribute("pos") is None
    agent.set_private_attribute("pos", "12 7000", node="peer")
    assert agent.private_attribute("pos", node="peer") == "12 7000"
    assert agent.node_attribute("pos", node="peer") == "12 7000"


def test_real_locate_of_a_resource_not_in_the_cib_is_nowhere(cib_file: Path) -> None:
    """An agent run by hand or by ocf-tester: its resource is not in the CIB (exit 105)."""
    assert cluster().locate() == {}


def test_real_cluster_properties(cib_file: Path) -> None:
    agent = cluster()
    assert agent.cluster_property("ocfa-test-property") is None
    agent.set_cluster_property("ocfa-test-property", "on")
    assert agent.cluster_property("ocfa-test-property") == "on"


def test_real_cluster_property_in_a_named_set_beside_one_in_the_default_set(cib_file: Path) -> None:
    """OVN's agent keeps OVN_REPL_INFO in the set ovn_ovsdb_master_server: once the name is in
    two sets, crm_attribute refuses to write it without -s, and set_id gives it."""
    agent = cluster()
    agent.set_cluster_property("OVN_REPL_INFO", "node-a", set_id="ovn_ovsdb_master_server")
    agent.set_cluster_property("OVN_REPL_INFO", "node-b", set_id="cib-bootstrap-options")
    assert agent.cluster_property("OVN_REPL_INFO", set_id="ovn_ovsdb_master_server") == "node-a"
    agent.set_cluster_property("OVN_REPL_INFO", "node-c", set_id="ovn_ovsdb_master_server")
    assert agent.cluster_property("OVN_REPL_INFO", set_id="ovn_ovsdb_master_server") == "node-c"
    with pytest.raises(ClusterUnreachable, match="exited 109"):  # two copies: which one to write?
        agent.set_cluster_property("OVN_REPL_INFO", "node-d")


def test_real_update_of_an_unknown_node_is_an_error(cib_file: Path) -> None:
    with pytest.raises(ClusterUnreachable, match="Could not set node attribute x: .* exited 105"):
        cluster().set_node_attribute("x", "1", node="stranger")


# -- the real tools with no cluster at all ----------------------------------------------------
NO_CLUSTER_PROBE = """
import json
from ocf_agents.ocf.cluster import Cluster, ClusterUnreachable, parse_locations
from ocf_agents.ocf.env import Environment
from ocf_agents.ocf.log import Logger
from ocf_agents.ocf.run import Budget, Runner

agent = Cluster(Runner(Budget(30), Logger({}, "t")), Environment({"OCF_RESOURCE_INSTANCE": "rsc"}))
calls = {
    "promotion_score": agent.promotion_score,
    "set_promotion_score": lambda: agent.set_promotion_score(5),
    "delete_promotion_score": agent.delete_promotion_score,
    "set_node_attribute": lambda: agent.set_node_attribute("a", "1"),
    "private_attribute": lambda: agent.private_attribute("a"),
    "set_private_attribute": lambda: agent.set_private_attribute("a", "1"),
    "cluster_property": lambda: agent.cluster_property("stonith-enabled"),
}
outcome = {"node_name": agent.node_name()}
for name, call in calls.items():
    try:
        outcome[name] = ["returned", call()]
    except ClusterUnreachable as err:
        outcome[name] = ["unreachable", err.reason]
print(json.dumps(outcome))
"""


@pytest.fixture(scope="module")
def without_cluster() -> dict:
    """What the helpers do in a network namespace of their own, where no cluster daemon can
    answer whatever else runs on this machine (Pacemaker's IPC uses abstract sockets)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace without any cluster daemon")
    environ = {k: v for k, v in os.environ.items() if k not in ("CIB_file", "CIB_shadow")}
    result = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", NO_CLUSTER_PROBE],
        cwd=REPO, env=environ, capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(result.stdout)


def test_real_crm_node_without_a_cluster_falls_back_to_uname(without_cluster: dict) -> None:
    assert without_cluster["node_name"] == os.uname().nodename


@pytest.mark.parametrize(
    "call",
    [
        "promotion_score", "set_promotion_score", "delete_promotion_score",
        "set_node_attribute", "cluster_property", "private_attribute", "set_private_attribute",
    ],
)
def test_real_tools_without_a_cluster_raise_cluster_unreachable(without_cluster: dict, call: str) -> None:
    kind, reason = without_cluster[call]
    assert kind == "unreachable"
    assert "exited 102" in reason


def test_real_crm_node_answer_is_the_node_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a cluster, crm_node -n still answers with the node Pacemaker named for the
    action; the agent's own Environment lacks it here, so the answer must come from crm_node."""
    monkeypatch.setenv(META + "on_node", "node-from-crm-node")
    assert cluster().node_name() == "node-from-crm-node"


def test_without_crm_node_installed_the_node_name_is_uname(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cluster().node_name() == os.uname().nodename
