"""Counting Pacemaker's transitions in its logs (ocf_agents/lab/drill/transitions.py), on lines
as Pacemaker 2.1.5 writes them; the lab tests count them in real logs."""

from __future__ import annotations

import datetime

from ocf_agents.lab.drill.transitions import count, first_time, line_time

YEAR = 2026
DC_LOG = """\
Dec 07 19:41:36.900 node1 pacemaker-schedulerd[120] (pcmk__log_transition_summary) notice: Calculated transition 11, saving inputs in /var/lib/pacemaker/pengine/pe-input-11.bz2
Dec 07 19:41:37.050 node1 pacemaker-controld  [122] (abort_transition_graph) info: Transition 11 aborted by rsc_location.cli-prefer-ovndb_servers-clone 'create': Configuration change | cib=0.16.0 complete=true
Dec 07 19:41:37.100 node1 pacemaker-schedulerd[120] (pcmk__log_transition_summary) notice: Calculated transition 12, saving inputs in /var/lib/pacemaker/pengine/pe-input-12.bz2
Dec 07 19:41:37.400 node1 pacemaker-controld  [122] (abort_transition_graph) info: Transition 12 aborted by status-2-master-ovndb_servers doing modify master-ovndb_servers=5: Transient attribute change | cib=0.40.7
  continued line without a stamp: Transition 99 aborted
Dec 07 19:41:37.700 node1 pacemaker-schedulerd[120] (pcmk__log_transition_summary) notice: Calculated transition 13, saving inputs in /var/lib/pacemaker/pengine/pe-input-13.bz2
Dec 07 19:41:38.300 node1 pacemaker-controld  [122] (log_executor_event) notice: Result of start operation for ovndb_servers-vip on node2: ok
"""
OTHER_LOG = """\
Dec 07 19:41:38.100 node2 pacemaker-controld  [222] (log_executor_event) notice: Result of start operation for ovndb_servers-vip on node2: ok
"""


def at(clock: str) -> float:
    return datetime.datetime.strptime(f"{YEAR} Dec 07 {clock}", "%Y %b %d %H:%M:%S.%f").timestamp()


def test_a_line_time_is_its_local_stamp_to_the_millisecond_and_none_without_one():
    assert line_time(DC_LOG.splitlines()[0], YEAR) == at("19:41:36.900")
    assert line_time("  continued line", YEAR) is None


def test_transitions_and_their_aborts_are_counted_within_the_window_only():
    """Transition 11's abort is the move starting transition 12, not a cost of the move."""
    found = count([DC_LOG, OTHER_LOG], at("19:41:37.000"), at("19:41:38.300"), YEAR)
    assert found.calculated == [12, 13]
    assert found.aborts == ["12: by status-2-master-ovndb_servers doing modify master-ovndb_servers=5: "
                            "Transient attribute change | cib=0.40.7"]
    assert str(found) == "2 transition(s), 1 abort(s)"


def test_one_transition_without_aborts():
    found = count([DC_LOG], at("19:41:37.500"), at("19:41:38.300"), YEAR)
    assert (found.calculated, found.aborts) == ([13], [])


def test_the_first_line_of_an_event_is_the_earliest_of_every_log():
    text = "Result of start operation for ovndb_servers-vip on "
    assert first_time([DC_LOG, OTHER_LOG], text, at("19:41:37.000"), YEAR) == at("19:41:38.100")
    assert first_time([DC_LOG], text, at("19:41:39.000"), YEAR) is None
