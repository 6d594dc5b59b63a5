"""What every step measures of the OVN control plane beside the databases.

The databases are only half of a deployment: ovn-northd must follow the promoted node
(``manage_northd=yes``), and the chassis's ovn-controllers must keep their ports and bind new
ones through the southbound VIP. Around each step's body this watches where ovn-northd runs
(:class:`NorthdSampler`), times how long after the step's fault a port created after it
works on a chassis (:mod:`binding`), and checks afterwards that the ports bound in earlier
steps still are, on the same chassis. The Stateful floor runs no OVN: nothing is measured.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from .. import agents
from ..lab import Lab
from ..layout import LabError
from ..proc import wait_until
from .binding import BindingProbe, ProbePort, working
from .results import StepFailed, StepResult
from .samplers import NorthdSampler

KEPT_TIMEOUT_S = 30.0  # bindings of earlier steps must be seen again within this


class ControlPlane:
    """The drill's probe ports (named from ``prefix``) and the northd watch of each step."""

    def __init__(self, lab: Lab, prefix: str) -> None:
        self.lab = lab
        self.prefix = prefix
        self.enabled = agents.replicated(lab.state.agent)  # ovn-northd runs with the databases
        self.bound: list[ProbePort] = []  # ports that came up in earlier steps that went well
        self._new: ProbePort | None = None  # the port that came up in this step
        self.sampler: NorthdSampler | None = None
        self._probe: BindingProbe | None = None
        self._seq = 0

    def bind_after(self, moment: float) -> None:
        """Start a new port now, on the next chassis in turn; the step's ``port up`` is its
        time from ``moment`` (the fault) until it is bound there and up."""
        if not (self.enabled and self.lab.chassis):
            return
        self._seq += 1
        self._new = None
        chassis = self.lab.chassis[(self._seq - 1) % len(self.lab.chassis)]
        self._probe = BindingProbe(ProbePort(self._seq, chassis, self.prefix), moment)

    @contextlib.contextmanager
    def watch(self, result: StepResult) -> Iterator[None]:
        """Around a step's body: ovn-northd sampled all along; then the probe's time and the
        sampler's tally go into ``result``, however the body ended."""
        if not self.enabled:
            yield
            return
        with NorthdSampler(self.lab) as self.sampler:
            try:
                yield
            finally:
                self._collect(result)
                result.northd = self.sampler.describe()

    def _collect(self, result: StepResult) -> None:
        probe, self._probe = self._probe, None
        if probe is None:
            return
        result.port_up = probe.result()
        result.facts["new port (s)"] = ", ".join(f"{k} {v:.2f}" for k, v in probe.phases.items())
        if result.port_up is None:
            result.facts["new port"] = probe.error
        else:
            self._new = probe.port

    def check(self, result: StepResult) -> None:
        """After a step that went well: never two ovn-northd at once, not even with one of
        them on a cut-off node (the cluster fences that node before it promotes another), the
        step's new port working, the earlier ones still bound."""
        sampler = self.sampler
        if not self.enabled or sampler is None:
            return
        if sampler.max_running > 1:
            where = "on connected nodes" if sampler.max_reachable > 1 else "one on a cut-off node"
            raise StepFailed(f"{sampler.max_running} ovn-northd ran at once, {where} "
                             f"({sampler.overlap})")
        if "new port" in result.facts:
            raise StepFailed(f"a port created after the fault never worked: "
                             f"{result.facts['new port']}")
        earlier = list(self.bound)
        try:
            wait_until("the ports of earlier steps bound and up on their chassis",
                       lambda: all(working(p) for p in earlier), KEPT_TIMEOUT_S, 0.5)
        except LabError:
            lost = [f"{p.lsp}@{p.chassis.name}" for p in earlier if not working(p)]
            raise StepFailed(f"ports bound before the step lost their binding: "
                             f"{', '.join(lost)}") from None
        if earlier:
            result.facts["bindings kept"] = f"{len(earlier)}/{len(earlier)}"
        if self._new is not None:
            self.bound.append(self._new)
            self._new = None
