"""The same lab with OVN's agent and with Pacemaker's Stateful (the fail-over bench's floor) in
the database role: each comes up, is crashed on its promoted node, fails over and rejoins.

Two nodes each, one crash each (about half a minute per agent): the bench measures, this
asserts that what it measures happens. OVN's agent is also kept from ever reaching the
address it hard-codes (192.0.2.254): every node must have an unreachable route to it.
"""

from __future__ import annotations

import subprocess
from typing import Iterator

import pytest
from lab_pool import LabPool, brought_up_drill

from ocf_agents.lab import agents
from ocf_agents.lab.drill import OVNDB, Drill, StepResult, replicating
from ocf_agents.lab.drill.probes import northd_pids
from ocf_agents.lab.lab import Lab

VARIANTS = {  # agent -> the clone's primitive in the CIB, as (provider, type)
    agents.OVN: (agents.OVN_LAB_PROVIDER, "ovndb-servers"),
    agents.STATEFUL: ("pacemaker", "Stateful"),
}


# From this OVS version each database's sync-status block starts with "database: <name>", and
# OVN's ovn-ctl, which takes the role from the first line, never sees one: OVN's agent then
# cannot start (tests/integration/test_ovndb_upstream.py shows it on the servers themselves).
SYNC_STATUS_NAMES_THE_DATABASE_FIRST = (3, 3)


def ovs_version() -> tuple[int, ...]:
    """The installed Open vSwitch's version, from ``ovsdb-server --version``."""
    first = subprocess.run(["ovsdb-server", "--version"], capture_output=True, text=True,
                           check=True, timeout=10).stdout.splitlines()[0]
    return tuple(int(part) for part in first.split()[-1].split(".")[:2])


@pytest.fixture(scope="module", params=list(VARIANTS))
def drill(request: pytest.FixtureRequest, lab_pool: LabPool) -> Iterator[Drill]:
    version = ovs_version()
    if request.param == agents.OVN and version >= SYNC_STATUS_NAMES_THE_DATABASE_FIRST:
        pytest.skip(f"OVN's agent cannot start with Open vSwitch {'.'.join(map(str, version))}: "
                    "its ovn-ctl reads the role from sync-status' first line, the database's "
                    "name from OVS 3.3 on (Debian 13)")
    # writes spaced as the bench runs them
    with brought_up_drill(lab_pool, 2, request.param, writer_spacing=0.1) as drill:
        yield drill


@pytest.fixture(scope="module")
def crashed(drill: Drill) -> StepResult:
    return drill.step("crash-promoted", drill.crash_promoted)


def primitive(lab: Lab) -> tuple[str, str]:
    xml = lab.run(lab.nodes[0], ["cibadmin", "--query", "--xpath",
                                 f"//primitive[@id='{OVNDB}']"]).stdout
    return tuple(xml.split(f'{key}="', 1)[1].split('"', 1)[0] for key in ("provider", "type"))


def test_nothing_in_a_node_can_reach_ovns_hard_coded_address(drill: Drill) -> None:
    for node in drill.lab.nodes:
        assert not drill.lab.run(node, ["ip", "route", "get", agents.OVN_NOWHERE],
                                 check=False).ok
        routes = drill.lab.run(node, ["ip", "route", "show"]).stdout
        assert f"unreachable {agents.OVN_NOWHERE}" in routes


def test_the_database_role_runs_the_agent_asked_for(drill: Drill) -> None:
    assert primitive(drill.lab) == VARIANTS[drill.agent]
    promoted = drill.promoted()
    for node in drill.lab.nodes:
        if node != promoted:
            assert replicating(drill.lab, node) == agents.replicated(drill.agent)


def test_crash_of_the_promoted_node_fails_over_and_it_rejoins(drill: Drill,
                                                             crashed: StepResult) -> None:
    assert crashed.ok, crashed.outcome
    assert crashed.promoted_after != crashed.promoted_before
    assert crashed.timings["first write"] > 0 and crashed.acked > 0
    assert crashed.facts["rejoined as"] == (
        "replicating backup" if agents.replicated(drill.agent) else "unpromoted")
    assert ("lost writes" in crashed.facts) != agents.replicated(drill.agent)  # floor: not counted


def test_ovn_northd_follows_the_promoted_node_and_a_new_port_comes_up_after_the_crash(
        drill: Drill, crashed: StepResult) -> None:
    """OVN's agent with its own manage_northd=yes: ovn-northd on the promoted node only, the
    bring-up's port still bound after the crash and a port created after it up on a chassis.
    The floor runs no OVN at all: nothing is measured there."""
    if not agents.replicated(drill.agent):
        assert (crashed.port_up, crashed.northd) == (None, "-")
        return
    assert sorted(northd_pids(drill.lab)) == [crashed.promoted_after]
    assert crashed.port_up is not None and crashed.facts["bindings kept"] == "1/1"
