"""``ocf-agents status`` on a real 3-node lab running our agent, as an operator runs it: inside
each node, with the system python3 and the standard library only, after the bring-up, after a
planned switchover and after a crash of the promoted node.

Each time, on every node: one promoted node, whose databases are active; the others backups
whose databases replicate from the address the promoted node published, connected; every
node's published position and barrier present; the table says the same.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest
from lab_pool import REPO, LabPool, brought_up_drill

from ocf_agents.lab.drill import Drill
from ocf_agents.lab.layout import LabError
from ocf_agents.lab.proc import wait_until
from ocf_agents.ocf.run import Result

SETTLE = 30.0  # seconds for the backups to connect to a new promoted node after a step


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool) -> Iterator[Drill]:
    with brought_up_drill(lab_pool, 3) as drill:
        yield drill


def status(drill: Drill, node: str, *options: str) -> Result:
    """``ocf-agents status`` run inside ``node`` by the system python3, on this checkout."""
    argv = ["env", f"PYTHONPATH={REPO}", "/usr/bin/python3", "-B", "-m", "ocf_agents.cli", "status", *options]
    return drill.lab.run(drill.lab.node(node), argv, check=False, timeout=60)


def topology_problems(data: dict, promoted: str, positions: set[str], recorded: bool) -> list[str]:
    """What differs from one promoted node and backups replicating from the address it
    published, connected, and the nodes of ``positions`` with a published position, one they
    ``recorded`` (a fresh cluster's first election publishes positions never recorded, 0).
    Empty: the topology is right."""
    nodes = {node["name"]: node for node in data["nodes"]}
    source = nodes[promoted]["published"] and nodes[promoted]["published"]["address"]
    problems = [] if (data["promoted"], data["replication_source"]) == (promoted, source) and source else \
        [f"promoted {data['promoted']} from {data['replication_source']}, published address {source}"]
    for name, node in nodes.items():
        role = "Promoted" if name == promoted else "Unpromoted"
        published = node["published"] or {}
        if node["role"] != role or name in positions and (not published or recorded and not published["position_ms"]):
            problems.append(f"{name}: {node['role']}, published {node['published']}")
        if node["databases"] is not None:
            wanted = [("active", None, None)] if name == promoted else [("backup", source, True)]
            if [(db["state"], db["source"], db["connected"]) for db in node["databases"]] != wanted * 2:
                problems.append(f"{name}'s databases: {node['databases']}")
    return problems


def assert_seen_alike_from_every_node(drill: Drill, promoted: str, positions: set[str] = frozenset(),
                                     recorded: bool = True) -> dict:
    """Every node's ``status --json`` shows the topology (waiting for the backups to connect),
    with the published positions of ``positions`` (default: every node's), and its table
    agrees; the last node's data."""
    positions = positions or {n.name for n in drill.lab.nodes}
    for node in drill.lab.nodes:
        last: list[str] = []

        def settled() -> dict | None:
            result = status(drill, node.name, "--json")
            assert result.rc == 0, result.describe()
            data = json.loads(result.stdout)
            last[:] = topology_problems(data, promoted, positions, recorded)
            return None if last else data

        try:
            data = wait_until(f"status on {node.name} to show {promoted} promoted", settled, SETTLE, 1.0)
        except LabError:  # the last problems say more than the timeout
            pytest.fail(f"status on {node.name}: {last}")
        assert data["local_node"] == node.name and data["problems"] == []
        assert not recorded or data["recorded_position"]["ms"] > 0, data["recorded_position"]
        for other in data["nodes"]:
            assert other["score"] is not None and (other["published"] or other["name"] not in positions), other
            assert (other["promotable"] is None) == (other["name"] == promoted), other
            assert other["name"] not in positions or (other["behind_ms"] is None) == (other["name"] == promoted), other
        table = status(drill, node.name)
        assert table.rc == 0, table.describe()
        print(f"ocf-agents status on {node.name}:\n{table.stdout}")
        lines = table.stdout.splitlines()
        assert lines[0] == f"ovndb_servers: {promoted} promoted, the backups replicate from {data['replication_source']}"
        assert [line.split()[0] for line in lines[2:5]] == [n.name + ("*" if n == node else "") for n in drill.lab.nodes]
        assert f"databases on {node.name} (this node):" in lines
        assert lines[-1].startswith("  data position recorded here: ")
    return data


def test_status_after_the_bring_up(drill: Drill) -> None:
    """The first election published positions never recorded (the nodes had just started)."""
    data = assert_seen_alike_from_every_node(drill, drill.promoted().name, recorded=False)
    assert {node["published"]["held"] for node in data["nodes"]} == {"-"}  # no barrier yet


def test_status_after_a_switchover(drill: Drill) -> None:
    result = drill.step("switchover", drill.switchover)
    assert result.ok, result.outcome
    data = assert_seen_alike_from_every_node(drill, result.promoted_after)
    demoted = next(node for node in data["nodes"] if node["name"] == result.promoted_before)
    assert demoted["published"]["held"] not in (None, "-"), demoted  # it committed the hand-off's barrier


def test_status_after_a_crash_of_the_promoted_node(drill: Drill) -> None:
    result = drill.step("crash-promoted", drill.crash_promoted)
    assert result.ok, result.outcome
    survivors = {n.name for n in drill.lab.nodes} - {result.promoted_before}  # the election's candidates
    assert_seen_alike_from_every_node(drill, result.promoted_after, survivors)


def test_a_resource_that_is_not_there_is_one_line_and_status_1(drill: Drill) -> None:
    result = status(drill, drill.lab.nodes[0].name, "--resource", "nosuch")
    assert (result.rc, result.stdout) == (1, "")
    assert result.stderr == "ocf-agents status: crm_mon lists no resource 'nosuch' (see --resource)\n"
