"""The drill's closing report without a lab: a block per step that fits 120 columns, and the
details file that keeps every fact whole (issue 28).

The results are shaped as a real 3-node drill leaves them (facts and timings as the steps
write them), with the long facts that made the old table's lines 436 characters wide.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_lab_logic import drill_with

from ocf_agents.lab.drill import StepResult, summary
from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT, WIDTH, ClientTally, block, write_details
from ocf_agents.lab.drill.watch import Watch

FRAMES = ("ARP reply 0e:4f:2a:10:33:01, ARP request 0e:4f:2a:10:33:01, IPv4 from the address "
          "0e:4f:2a:10:33:01")
FAILED_MONITOR = ("ovndb_servers_monitor_5000 on node2: northbound active, southbound active, "
                  "ovn-northd not running (manage_northd=yes)")


def step(name: str, outcome: str, before: str, after: str, timings: dict[str, float],
         facts: dict[str, object], gaps: tuple[float, float] = (1.5, 2.5), lost: tuple[int | None, int | None] = (0, 0),
         northd: str = "70/70 max 1", port_up: float | None = 2.31) -> StepResult:
    result = StepResult(name, outcome.startswith(("ok", "skipped")), outcome, before, after, timings, facts)
    result.clients = {ONE_SHOT: ClientTally(acked=41, lost=lost[0], gap=gaps[0]),
                      LONG_LIVED: ClientTally(acked=612, lost=lost[1], gap=gaps[1])}
    result.northd, result.port_up = northd, port_up
    return result


RESULTS = [
    step("bring-up", "ok", "-", "node1",
         {"setup commands": 4.87, "promoted+VIP": 6.02, "backups replicating": 1.21, "first write": 0.31,
          "first long-lived write": 0.42, "step": 19.7},
         {"port group on": "node2", "new port (s)": "created 0.35, bound 1.62, up 2.31"},
         gaps=(0.0, 0.0), port_up=2.31),
    step("switchover", "ok", "node1", "node2", {"moved": 3.25, "first write": 1.12, "step": 14.2},
         {"bindings kept": "1/1", "new port (s)": "created 1.40, bound 2.02, up 2.95"}, gaps=(1.35, 1.71)),
    step("kill-northd", "ok", "node2", "node2", {"monitor failed": 4.11, "northd back": 6.93, "step": 12.8},
         {"failed": FAILED_MONITOR, "bindings kept": "2/2"}, northd="52/70 max 1"),
    step("crash-promoted", "ok", "node2", "node3",
         {"first write": 5.21, "promoted elsewhere": 4.9, "fenced": 3.62, "rejoined": 21.4, "step": 41.0},
         {"fence": "off node2 by node3 (the device found node2 already off, as after a power cut)",
          "rejoined as": "replicating backup", "lost writes": "1 of the long-lived client's, none of the one-shot's"},
         gaps=(5.52, 12.93), lost=(0, 1), port_up=7.25),
    step("partition", "FAILED: two servers active at once on node1 and node3 for 0.4 s, both holding the "
         "VIP; the cut-off node was fenced 5.2 s after the cut, the majority promoted node1 9.2 s after "
         "it", "node3", "node1", {"first write": 9.8, "fenced": 5.2, "step": 60.3},
         {"fence": "off node3 by node1 (ok)", "max writable at once": 2, "max active at once": 2,
          "max VIP holders at once": 2}, gaps=(10.2, 15.7), lost=(2, 3), northd="40/80 max 2"),
    step("port-failover", "ok", "node1", "node1", {"moved": 6.1, "fenced": 3.9, "step": 30.0},
         {"MAC before": "0e:4f:2a:10:33:01", "MAC after": "0e:4f:2a:10:33:01", "frames before": FRAMES,
          "frames after": FRAMES}, gaps=(0.0, 0.0), port_up=None),
    step("stale-replica", "skipped: needs a 3-node lab", "node1", "node1", {"step": 0.1}, {},
         lost=(None, None), port_up=None),
]


def test_every_line_of_the_summary_fits_120_columns(tmp_path: Path) -> None:
    text = summary(drill_with(RESULTS), write_details(drill_with(RESULTS), str(tmp_path)))
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, too_long
    assert max(len(line) for line in text.splitlines()) > 100, "the lines are used, not starved"


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.name)
def test_each_step_has_its_block_with_its_facts(result: StepResult) -> None:
    """What happened, both clients' gaps, writes and losses, the fence, ovn-northd, the port."""
    text = "\n".join(block(result))
    assert text.startswith(f"{result.name} ({result.promoted_before} -> {result.promoted_after}, ")
    assert f"): {result.outcome.split(':')[0]}" in text
    for tally in result.clients.values():
        assert f"gap {tally.gap:.2f} s, {tally.acked} acked" in text
        assert f"{'not counted' if tally.lost is None else tally.lost} lost" in text
    for name, value in result.timings.items():
        if name != "step":
            assert f"{name} {value:.2f}" in " ".join(text.split()), name
    assert f"northd {result.northd}" in text
    assert f"port up {'-' if result.port_up is None else f'{result.port_up:.2f} s'}" in text
    if "fence" in result.facts:
        assert f"fenced {result.timings['fenced']:.2f} s ({str(result.facts['fence']).split(' (')[0]})" in text
    for name in result.facts:
        assert name in " ".join(text.split()) or name == "fence"


def test_long_facts_are_shortened_in_the_summary_and_whole_in_the_details(tmp_path: Path) -> None:
    drill = drill_with(RESULTS)
    path = write_details(drill, str(tmp_path / "reports"))  # the directory is made
    text = summary(drill, path)
    assert f"every fact and outcome in full: {path}" in " ".join(text.split())
    assert FRAMES not in text and "frames after: ARP reply" in text
    written = Path(path).read_text(encoding="utf-8")
    assert Path(path).parent == tmp_path / "reports" and Path(path).name.startswith("drill-")
    assert f"frames after: {FRAMES}" in written and f"failed: {FAILED_MONITOR}" in written
    for result in RESULTS:
        assert f"== {result.name}\noutcome: {result.outcome}\n" in written
    assert "timing fenced: 3.620 s" in written
    assert "long-lived: gap 12.93 s, 612 acked, 1 lost" in written


def test_the_totals_and_what_went_wrong_close_the_summary() -> None:
    lines = summary(drill_with(RESULTS)).splitlines()
    assert "one-shot writes: 1 attempted, 1 acknowledged, 0 acknowledged writes lost in all" in lines
    assert "promoted: node1 at 1.0s" in lines
    closing = " ".join(" ".join(lines[lines.index("promoted: node1 at 1.0s"):]).split())
    assert "partition: FAILED: two servers active at once" in closing
    assert "stale-replica: skipped: needs a 3-node lab" in closing


def test_a_long_line_of_the_timeline_is_wrapped_under_its_message() -> None:
    """The timeline printed as the drill goes fits the same width (a failed step says why)."""
    said: list[str] = []
    watch = Watch.__new__(Watch)  # no lab needed to say something
    watch._say, watch.started = said.append, time.monotonic()
    watch.say("partition", RESULTS[4].outcome)
    assert len(said) == 2 and max(len(line) for line in said) <= WIDTH
    assert said[0].startswith("[   0.00s] partition        FAILED: two servers active at once")
    assert said[1].startswith(" " * 28) and said[1][28] != " "  # under the message
