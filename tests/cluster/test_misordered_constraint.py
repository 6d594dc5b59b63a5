"""A VIP that moves before the new promoted node is active: the order constraint reversed in
a real 3-node lab (Pacemaker, our agent, both writing clients), as an operator who wrote it
by hand the wrong way round would have it.

``ocf-agents setup`` writes "promote the clone, then start the VIP". Reversed ("start the
VIP, then promote the clone"), Pacemaker also applies its inverse, "demote, then stop the
VIP": in a switchover the old node is demoted while clients still reach it through the VIP,
and the VIP starts on the new node before its promote. The agent must lose no acknowledged
write either way: a client write that lands after the demote's barrier withholds the barrier
(handoff.confirm_barrier) and the successor copies the old node's data instead; a client that
reaches the new node before its promote is refused ("read only"), never acknowledged.
docs/guide.md ("Clients that hold a connection") says what the clients see.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from lab_pool import LabPool, brought_up_drill

from ocf_agents.lab.drill import Drill
from ocf_agents.lab.drill.resources import OVNDB_CLONE, OVNDB_VIP_RSC
from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT

ORDER = f"{OVNDB_VIP_RSC}-after-{OVNDB_CLONE}"  # the order ocf-agents setup writes (build.py)
REVERSED = f"{OVNDB_CLONE}-after-{OVNDB_VIP_RSC}"


@pytest.fixture(scope="module")
def drill(lab_pool: LabPool) -> Iterator[Drill]:
    with brought_up_drill(lab_pool, 3) as drill:
        yield drill


def pcs(drill: Drill, *args: str) -> None:
    drill.lab.run(drill.lab.running()[0], ["pcs", *args])


def test_a_switchover_under_a_reversed_order_constraint_loses_no_acknowledged_write(
        drill: Drill) -> None:
    pcs(drill, "constraint", "delete", ORDER)
    pcs(drill, "constraint", "order", "start", OVNDB_VIP_RSC, "then", "promote", OVNDB_CLONE,
        f"id={REVERSED}")
    began = time.monotonic()
    result = drill.step("switchover", drill.switchover)
    # The step fails on its own if the move's target is not promoted or a write was lost.
    assert result.ok, result.outcome
    assert result.clients[ONE_SHOT].lost == 0 and result.clients[LONG_LIVED].lost == 0
    after = drill.long_lived.first_ack_after(began + result.timings["moved"])
    assert after is not None, "the long-lived client wrote nothing after the switchover"
