"""The drill's picture: every step's timeline as one panel of one SVG file (issue 28).

One file, so that the report names one path and the operator opens one picture; every panel
on the same scale (the longest step fills the width), so that a longer outage looks longer
wherever it happened. A panel's lanes, top to bottom: each client's acknowledged writes (a
gap is an outage), each node's northbound server role, the VIP's holder, ovn-northd, the
fence device's power actions; a dashed line marks the step's fault. Times are the drill's
clock, the seconds of its printed timeline.

Written with the standard library's ElementTree: the picture is rectangles, lines and text,
which no charting library draws more simply than this, and the smallest that could (pygal,
leather) chart series, not lanes of states (docs/lab.md has the comparison). Every drawn
event carries a ``<title>`` naming it and its times (``node1: active, 12.30-15.20 s``, ``crash
at 13.00 s``), each step's panel its step's name: a viewer shows them on hover, and the tests
read the picture by those.
"""

from __future__ import annotations

import math
import os
import textwrap
import xml.etree.ElementTree as ET

from ..layout import OVNDB_VIP
from .results import CLIENTS, StepResult, headline
from .timeline import NONE, TOGETHER, Timeline, Track

SVG_NS = "http://www.w3.org/2000/svg"
LABEL_W, PLOT_W, MARGIN = 130, 1000, 20  # px: lane names, the longest step, the right margin
WIDTH = LABEL_W + PLOT_W + MARGIN
LANE_H, LANE_GAP, TITLE_H, AXIS_H = 16, 4, 30, 26
FONT = "font-family: sans-serif; font-size: 11px"
CHAR_W = 6.5  # px: a character of FONT, about, to know whether a label fits in its bar
# Acknowledged writes closer than this are drawn as one bar: both clients write again within
# 0.1 s of an acknowledgement (load permitting), so a longer pause is the start of an outage.
MERGE_S = 0.2
TICKS_S = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
TICK_PX = 50  # the least space between two ticks of the time axis

ROLE_COLOURS = {"active": "#2e8b57", "backup": "#7fb3e0", "stopped": "#c8c8c8", "down": "#404040"}
CUT_OFF = "#ff8c00"  # the outline of a role while the node is cut off
HELD = {"VIP": "#8e6bbf", "ovn-northd": "#2a9d8f"}  # held by one node
TWICE = "#d62728"  # held by two nodes at once: what must never happen
WRITES, FENCE, MOMENT = "#333333", "#8b0000", "#000000"
LIGHT = (ROLE_COLOURS["backup"], ROLE_COLOURS["stopped"])  # black labels on these, white on others

LEGEND = [("active", ROLE_COLOURS["active"]), ("backup", ROLE_COLOURS["backup"]),
          ("stopped", ROLE_COLOURS["stopped"]), ("node down", ROLE_COLOURS["down"]),
          ("VIP holder", HELD["VIP"]), ("ovn-northd", HELD["ovn-northd"]),
          ("on two nodes at once", TWICE), ("acknowledged writes", WRITES),
          ("fence action", FENCE)]
EXPLAINED = ("node lanes: the node's northbound server as it says itself (orange outline: the node "
             "is cut off); writes: a gap is a client's outage; dashed line: the step's fault; "
             "times: seconds since the drill began, every step on the same scale")


def span_text(start: float, end: float) -> str:
    return f"{start:.2f}-{end:.2f} s"


class Panel:
    """One step's timeline drawn into ``parent`` from ``top``, ``scale`` px per second: its
    heading, then lane after lane."""

    def __init__(self, parent: ET.Element, top: float, scale: float, result: StepResult,
                 timeline: Timeline) -> None:
        self.group = ET.SubElement(parent, "g", {"class": "step"})
        ET.SubElement(self.group, "title").text = result.name
        self.scale, self.timeline = scale, timeline
        self.text(8, top + 16, textwrap.shorten(headline(result), int((WIDTH - 16) / CHAR_W)),
                  FONT + "; font-weight: bold")
        self.y = top + TITLE_H - LANE_H - LANE_GAP  # lane() steps down to the first lane

    def x(self, at: float) -> float:
        return LABEL_W + (at - self.timeline.begin) * self.scale

    def element(self, tag: str, title: str | None = None, **attrs: object) -> ET.Element:
        """An SVG element of the panel; ``title`` is what a viewer shows on hover."""
        shape = ET.SubElement(self.group, tag, {k.replace("_", "-"): str(v) for k, v in attrs.items()})
        if title:
            ET.SubElement(shape, "title").text = title
        return shape

    def text(self, x: float, y: float, text: str, style: str = FONT, **attrs: object) -> None:
        self.element("text", x=f"{x:.1f}", y=f"{y:.1f}", style=style, **attrs).text = text

    def bar(self, start: float, end: float, colour: str, title: str, label: str = "",
            kind: str = "", beside: bool = False, **attrs: object) -> None:
        """A bar on the current lane from ``start`` to ``end``, ``label`` inside if it fits
        (or ``beside`` it, right of it, where nothing else is drawn)."""
        left, width = self.x(start), max((end - start) * self.scale, 1.5)
        self.element("rect", title, x=f"{left:.1f}", y=f"{self.y:.1f}", width=f"{width:.1f}",
                     height=LANE_H, fill=colour, **{"class": kind}, **attrs)
        baseline = self.y + LANE_H - 4
        if beside:
            self.text(left + width + 3, baseline, label)
        elif label and len(label) * CHAR_W + 4 <= width:
            self.text(left + 3, baseline, label, fill="#000000" if colour in LIGHT else "#ffffff")

    def lane(self, name: str) -> None:
        """Start the next lane, named on the left."""
        self.y += LANE_H + LANE_GAP
        self.text(8, self.y + LANE_H - 4, name)

    def writes(self, client: str, ends: list[float]) -> None:
        """The client's acknowledged writes, those closer than MERGE_S drawn as one bar."""
        self.lane(f"{client} writes")
        runs: list[list[float]] = []
        for end in sorted(ends):
            if runs and end - runs[-1][-1] < MERGE_S:
                runs[-1].append(end)
            else:
                runs.append([end])
        for run in runs:
            count = f"{len(run)} acknowledged write{'s' if len(run) > 1 else ''}"
            self.bar(run[0], run[-1], WRITES, f"{client}: {count}, {span_text(run[0], run[-1])}",
                     kind="writes")

    def role(self, node: str, track: Track) -> None:
        self.lane(node)
        for start, end, role in track.spans(self.timeline.end):
            outline = {"stroke": CUT_OFF, "stroke_width": 2} if "cut off" in role else {}
            self.bar(start, end, ROLE_COLOURS.get(role.split(",")[0], "#ffffff"),
                     f"{node}: {role}, {span_text(start, end)}", role, "role", **outline)

    def held(self, what: str, track: Track, lane: str) -> None:
        """Which node holds ``what`` (nothing drawn while none does)."""
        self.lane(lane)
        for start, end, nodes in track.spans(self.timeline.end):
            if nodes != NONE:
                colour = TWICE if TOGETHER in nodes else HELD[what]
                self.bar(start, end, colour, f"{what} on {nodes}, {span_text(start, end)}", nodes,
                         what.lower())

    def fences(self) -> None:
        self.lane("fence device")
        for f in self.timeline.fences:
            what = f"{f.action} {f.target} by {f.requester}{'' if f.ok else ' (failed)'}"
            self.bar(f.requested, f.done, FENCE, f"fence {what}, {span_text(f.requested, f.done)}",
                     what, "fence", beside=True)

    def moments(self, top: float) -> None:
        """A dashed line across the lanes at each of the step's moments, named above them."""
        for name, at in self.timeline.moments.items():
            x = self.x(at)
            self.element("line", f"{name} at {at:.2f} s", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=f"{top:.1f}",
                         y2=f"{self.y + LANE_H:.1f}", stroke=MOMENT, stroke_dasharray="4 3",
                         **{"class": "moment"})
            self.text(x + 3, top - 2, name)

    def axis(self) -> None:
        """Ticks every TICKS_S step that leaves TICK_PX between them, in drill seconds."""
        self.y += LANE_H + LANE_GAP
        step = next((s for s in TICKS_S if s * self.scale >= TICK_PX), TICKS_S[-1])
        begin, end = self.timeline.begin, self.timeline.end
        self.element("line", x1=LABEL_W, x2=f"{self.x(end):.1f}", y1=self.y, y2=self.y, stroke="#999999")
        for i in range(math.ceil(begin / step), math.floor(end / step) + 1):
            x = self.x(i * step)
            self.element("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=self.y, y2=self.y + 4, stroke="#999999")
            self.text(x - 8, self.y + 15, f"{i * step:g} s")
        self.y += AXIS_H - LANE_GAP


def draw_step(parent: ET.Element, top: float, scale: float, result: StepResult,
              timeline: Timeline) -> float:
    """``result``'s panel from ``top``; where the next one begins."""
    panel = Panel(parent, top, scale, result, timeline)
    for client in CLIENTS:
        panel.writes(client, timeline.writes.get(client, []))
    for node, track in sorted(timeline.roles.items()):
        panel.role(node, track)
    panel.held("VIP", timeline.vip, f"VIP {OVNDB_VIP}")
    if timeline.northd is not None:
        panel.held("ovn-northd", timeline.northd, "ovn-northd")
    panel.fences()
    panel.moments(top + TITLE_H)
    panel.axis()
    return panel.y


def legend(svg: ET.Element) -> float:
    """Colour swatches and what the lanes mean, at the top; the height they take."""
    x = 8.0
    for name, colour in LEGEND:
        ET.SubElement(svg, "rect", x=f"{x:.1f}", y="8", width="12", height="12", fill=colour)
        ET.SubElement(svg, "text", x=f"{x + 16:.1f}", y="18", style=FONT).text = name
        x += 16 + len(name) * CHAR_W + 14
    lines = textwrap.wrap(EXPLAINED, int((WIDTH - 16) / CHAR_W))
    for i, line in enumerate(lines):
        ET.SubElement(svg, "text", x="8", y=f"{36 + 14 * i}", style=FONT).text = line
    return 36 + 14 * len(lines)


def svg(results: list[StepResult]) -> str:
    """The picture of the steps that have a timeline, as an SVG document."""
    steps = [(r, r.timeline) for r in results if r.timeline is not None]
    longest = max((timeline.end - timeline.begin for _, timeline in steps), default=1.0)
    scale = PLOT_W / max(longest, 1.0)
    root = ET.Element("svg", xmlns=SVG_NS, width=str(WIDTH))
    ET.SubElement(root, "rect", width="100%", height="100%", fill="#ffffff")
    y = legend(root)
    for result, timeline in steps:
        y = draw_step(root, y, scale, result, timeline)
    root.set("height", f"{y + 10:.0f}")
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_picture(results: list[StepResult], directory: str, name: str) -> str:
    """:func:`svg` written to ``directory``/``name``.svg (beside the details file); its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name}.svg")
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg(results))
    return path
