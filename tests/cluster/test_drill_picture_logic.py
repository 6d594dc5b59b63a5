"""The drill's picture drawn from recorded timelines, without a lab (issue 28): every event
of every step is in it, named by its ``<title>``, at its time, on one scale for all steps.

``drawn`` reads a picture back into events; test_drill.py reads a real drill's picture with it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from test_lab_logic import drill_with

from ocf_agents.lab.drill import StepResult, summary
from ocf_agents.lab.drill.picture import LABEL_W, PLOT_W, SVG_NS, TWICE, svg, write_picture
from ocf_agents.lab.drill.results import LONG_LIVED, ONE_SHOT, WIDTH, write_details
from ocf_agents.lab.drill.timeline import Fence, Timeline, Track

NS = {"svg": SVG_NS}
TITLE = re.compile(r"(?P<what>.*?)(?:, (?P<start>[\d.]+)-(?P<end>[\d.]+) s| at (?P<at>[\d.]+) s)")


@dataclass(frozen=True)
class Drawn:
    """One drawn event: its kind (the element's class), what its title names, its times."""

    kind: str
    what: str
    start: float
    end: float
    element: ET.Element


def drawn(picture: str) -> dict[str, list[Drawn]]:
    """Each step's drawn events, by the step's name, from an SVG the drill wrote."""
    steps = {}
    for panel in ET.fromstring(picture).iterfind("svg:g[@class='step']", NS):
        events = []
        for element in panel:
            title = element.find("svg:title", NS)
            if element.get("class") and title is not None:
                m = TITLE.fullmatch(title.text or "")
                assert m, title.text
                start, end = (m["start"], m["end"]) if m["at"] is None else (m["at"], m["at"])
                events.append(Drawn(element.get("class", ""), m["what"], float(start), float(end),
                                    element))
        steps[panel.findtext("svg:title", namespaces=NS)] = events
    return steps


def of(events: list[Drawn], kind: str) -> list[Drawn]:
    return [e for e in events if e.kind == kind]


def writes_every(start: float, end: float, every: float = 0.05) -> list[float]:
    return [round(start + i * every, 3) for i in range(int((end - start) / every) + 1)]


def crash_step() -> StepResult:
    """A crash of the promoted node1 as the drill records it: node2 promoted, node1 fenced,
    booted again and replicating; both clients stop writing for a while."""
    result = StepResult("crash-promoted", True, "ok", "node1", "node2", {"step": 41.0})
    result.timeline = Timeline(
        100.0, 141.0,
        {"node1": Track([(100.0, "active"), (103.0, "down"), (120.0, "stopped"), (125.0, "backup")]),
         "node2": Track([(100.0, "backup"), (108.2, "active")]),
         "node3": Track([(100.0, "backup")])},
        Track([(100.0, "node1"), (103.0, ""), (108.0, "node2")]),
        Track([(100.0, "node1"), (103.0, ""), (109.0, "node2")]),
        {ONE_SHOT: writes_every(100.0, 102.9) + writes_every(108.3, 141.0),
         LONG_LIVED: writes_every(100.0, 102.95, 0.1) + writes_every(115.9, 141.0, 0.1)},
        [Fence(106.5, 106.6, "off", "node1", "node2", True)], {"crash": 103.0})
    return result


def switchover_step() -> StepResult:
    """A switchover node2 -> node3 in which ovn-northd ran on both for 0.2 s (what the
    drill must show), and node3 was cut off for a while (drawn outlined)."""
    result = StepResult("switchover", True, "ok", "node2", "node3", {"step": 12.0})
    result.timeline = Timeline(
        150.0, 162.0,
        {"node1": Track([(150.0, "backup")]),
         "node2": Track([(150.0, "active"), (152.1, "backup")]),
         "node3": Track([(150.0, "backup"), (152.2, "active, cut off"), (155.0, "active")])},
        Track([(150.0, "node2"), (152.0, ""), (152.25, "node3")]),
        Track([(150.0, "node2"), (152.1, "node2+node3"), (152.3, "node3")]),
        {ONE_SHOT: writes_every(150.0, 152.0) + writes_every(152.4, 162.0), LONG_LIVED: []},
        [], {"move": 151.9})
    return result


def test_a_track_keeps_changes_only_and_each_value_holds_until_the_next() -> None:
    track = Track()
    for at, value in [(1.0, "backup"), (1.1, "backup"), (2.0, "active"), (2.1, "active")]:
        track.note(at, value)
    assert track.changes == [(1.0, "backup"), (2.0, "active")]
    assert track.spans(5.0) == [(1.0, 2.0, "backup"), (2.0, 5.0, "active")]
    assert track.shifted(-1.0).changes == [(0.0, "backup"), (1.0, "active")]


def test_each_step_has_a_panel_with_every_event_of_its_timeline() -> None:
    results = [crash_step(), switchover_step()]
    steps = drawn(svg(results))
    assert list(steps) == ["crash-promoted", "switchover"]
    for result in results:
        timeline, events = result.timeline, steps[result.name]
        assert timeline is not None
        for node, track in timeline.roles.items():
            assert [(e.what, e.start, e.end) for e in of(events, "role") if e.what.startswith(f"{node}:")] == \
                [(f"{node}: {role}", start, end) for start, end, role in track.spans(timeline.end)]
        assert [(e.what, e.start, e.end) for e in of(events, "vip")] == \
            [(f"VIP on {nodes}", start, end) for start, end, nodes in timeline.vip.spans(timeline.end) if nodes]
        assert timeline.northd is not None
        assert [(e.what, e.start, e.end) for e in of(events, "ovn-northd")] == [
            (f"ovn-northd on {nodes}", start, end) for start, end, nodes in timeline.northd.spans(timeline.end)
            if nodes]
        assert [(e.what, e.start, e.end) for e in of(events, "fence")] == [
            (f"fence {f.action} {f.target} by {f.requester}", f.requested, f.done) for f in timeline.fences]
        assert [(e.what, e.start) for e in of(events, "moment")] == list(timeline.moments.items())
        for client, ends in timeline.writes.items():
            bars = [e for e in of(events, "writes") if e.what.startswith(f"{client}:")]
            assert sum(int(e.what.split()[1]) for e in bars) == len(ends), client
            assert all(any(b.start <= end <= b.end for b in bars) for end in ends), client


def test_a_clients_outage_is_a_gap_between_its_bars() -> None:
    """Writes 0.05 or 0.1 s apart are one bar; the crash's outage, from the last write before
    it to the first after it, is the space between two bars (a pause of 0.2 s or more is)."""
    step = crash_step()
    assert step.timeline is not None
    events = drawn(svg([step]))["crash-promoted"]
    for client, ends in step.timeline.writes.items():
        before, after = [t for t in ends if t < 103.0], [t for t in ends if t > 103.0]
        bars = [(e.start, e.end) for e in of(events, "writes") if e.what.startswith(f"{client}:")]
        assert bars == [(before[0], before[-1]), (after[0], after[-1])], client


def test_every_step_is_drawn_on_the_same_scale_the_longest_filling_the_width() -> None:
    steps = drawn(svg([crash_step(), switchover_step()]))
    scale = PLOT_W / 41.0  # px per second: the crash, the longer step, fills the plot's width

    def place(event: Drawn) -> tuple[float, float]:
        return float(event.element.get("x", "")), float(event.element.get("width", ""))

    node1_down = next(e for e in of(steps["crash-promoted"], "role") if e.what == "node1: down")
    assert place(node1_down) == (round(LABEL_W + 3.0 * scale, 1), round(17.0 * scale, 1))
    node2_active = next(e for e in of(steps["switchover"], "role") if e.what == "node2: active")
    assert place(node2_active) == (LABEL_W, round(2.1 * scale, 1))


def test_what_must_never_happen_stands_out() -> None:
    """ovn-northd on two nodes at once in the alarm colour; a cut-off node outlined."""
    events = drawn(svg([switchover_step()]))["switchover"]
    twice = next(e for e in of(events, "ovn-northd") if e.what == "ovn-northd on node2+node3")
    assert twice.element.get("fill") == TWICE and (twice.start, twice.end) == (152.1, 152.3)
    cut_off = next(e for e in of(events, "role") if e.what == "node3: active, cut off")
    assert cut_off.element.get("stroke") and (cut_off.start, cut_off.end) == (152.2, 155.0)
    assert not next(e for e in of(events, "role") if e.what == "node3: active").element.get("stroke")


def test_a_step_without_ovn_northd_or_fences_has_no_such_events() -> None:
    """The Stateful floor runs no ovn-northd: nothing is watched, nothing drawn."""
    result = switchover_step()
    assert result.timeline is not None
    result.timeline.northd = None
    events = drawn(svg([result]))["switchover"]
    assert not of(events, "ovn-northd") and not of(events, "fence")
    assert of(events, "role") and of(events, "vip")


def test_the_picture_is_written_beside_the_details_and_the_summary_names_it(tmp_path: Path) -> None:
    drill = drill_with([crash_step(), switchover_step()])
    details = write_details(drill, str(tmp_path), "drill-20250101-120000")
    picture = write_picture(drill.results, str(tmp_path / "new"), "drill-20250101-120000")
    assert Path(details).name == "drill-20250101-120000.txt"
    assert Path(picture) == tmp_path / "new" / "drill-20250101-120000.svg"  # the directory is made
    assert set(drawn(Path(picture).read_text(encoding="utf-8"))) == {"crash-promoted", "switchover"}
    text = summary(drill, details, picture)
    assert f"each step's timeline as a picture: {picture}" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= WIDTH
