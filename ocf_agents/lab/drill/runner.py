"""How one step runs: its outcome read from how it ended, the lab made whole after it.

A step that fails must not take the next one down with it: whatever it broke (a node crashed,
a link down, a failure count) is undone before the next step starts, and a step that cannot
undo it says so in its outcome.
"""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from .. import agents
from ..fence_device import read_events
from ..idl_writer import ClientSettings
from ..lab import Lab
from ..layout import LabError
from ..nodes import init_pid
from ..writer import Writer, nb_db
from .control import ControlPlane
from .results import StepFailed, StepResult, StepSkipped
from .resources import DOCUMENTED, HELD
from .samplers import RoleSampler
from .timeline import Fence, Timeline
from .watch import SETTLED_TIMEOUT, Watch

POWER_ACTIONS = ("off", "on", "reboot")  # the fence device's actions the picture shows


class Runner(Watch):
    """Runs steps one after the other on one lab, with two writing clients throughout (the
    one-shot writer and the long-lived client as ``client`` says: the bare IDL by default, or
    ovsdbapp as OpenStack uses it; each naming its switches with its own prefix), and keeps
    their results."""

    def __init__(self, lab: Lab,
                 say: Callable[[str], None] = lambda line: print(line, flush=True),
                 writer_spacing: float | None = None, ports: int = 0,
                 client: ClientSettings = ClientSettings(), profile: str = DOCUMENTED,
                 server_probe_ms: int | None = None) -> None:
        prefix = f"drill{int(time.time())}"
        self.ports = ports  # logical switch ports loaded at the bring-up (load.py)
        self.profile = profile  # the configuration the bring-up applies (resources.PROFILES)
        self.server_probe_ms = server_probe_ms  # the servers' client probe (None: the agent's)
        super().__init__(lab, Writer(prefix, spacing=writer_spacing),
                         client.writer(f"{prefix}-idl", nb_db()), say)
        if profile == HELD:
            self.vip_resource = None
        self.control = ControlPlane(lab, prefix)
        self.results: list[StepResult] = []

    def start_clients(self) -> None:
        self.writer.start()
        self.long_lived.start()

    def stop_clients(self) -> None:
        """Both clients stopped; every drill, bench and test ends with this."""
        self.writer.stop()
        self.long_lived.stop()

    def step(self, name: str, body: Callable[[StepResult], None]) -> StepResult:
        """Run ``body``, then restore the lab; the result says how the step ended."""
        result = StepResult(name)
        self.say(name, "begins")
        begun = time.monotonic()
        try:
            with self.recording(result), self.control.watch(result):
                body(result)
            self.control.check(result)
            result.ok, result.outcome = True, "ok"
        except StepSkipped as err:
            result.ok, result.outcome = True, f"skipped: {err}"
        except StepFailed as err:
            result.outcome = f"FAILED: {err}"
        except LabError as err:
            result.outcome = f"FAILED (lab): {err}"
        finally:
            try:
                self.restore()
            except LabError as err:
                result.ok = False
                result.outcome += f"; lab not restored: {err}"
        result.timings.setdefault("step", time.monotonic() - begun)
        self.say(name, result.outcome)
        self.results.append(result)
        return result

    @contextlib.contextmanager
    def recording(self, result: StepResult) -> Iterator[None]:
        """Around a step's body: what its picture shows, sampled (samplers.RoleSampler; the
        control plane samples ovn-northd) and put into ``result.timeline`` however the body
        ended, with both clients' acknowledged writes, the fence device's power actions and
        the step's moments, all on the drill's clock."""
        begun = time.monotonic()
        sampler = RoleSampler(self.lab)
        try:
            with sampler:
                yield
        finally:
            result.timeline = self.timeline(result, begun, time.monotonic(), sampler)

    def timeline(self, result: StepResult, begun: float, ended: float,
                 sampler: RoleSampler) -> Timeline:
        """The step's :class:`Timeline` from ``begun`` to ``ended`` (time.monotonic())."""
        origin = self.started  # the drill's clock: seconds since then
        ahead = time.time() - time.monotonic()  # how far time.time() is ahead

        def from_wall(moment: float) -> float:  # a time.time() on the drill's clock
            return moment - ahead - origin

        northd = self.control.sampler if self.control.enabled else None
        fences = [e for e in read_events(begun + ahead)
                  if e.action in POWER_ACTIONS and e.requested <= ended + ahead]
        return Timeline(
            begin=begun - origin, end=ended - origin,
            roles={name: track.shifted(-origin) for name, track in sampler.roles.items()},
            vip=sampler.vip.shifted(-origin),
            northd=northd.track.shifted(-origin) if northd else None,
            writes={name: [w.finished - origin for w in client.acked_between(begun, ended)]
                    for name, client in self.clients.items()},
            fences=[Fence(from_wall(e.requested), from_wall(e.done), e.action, e.target,
                          e.requester, e.ok) for e in fences],
            moments={name: from_wall(moment) for name, moment in result.moments.items()})

    def bind_port_after(self, fault: float) -> None:
        """A new VM port from now on: the step's ``port up`` is the time from ``fault`` until
        it works on a chassis (control.py)."""
        self.control.bind_after(fault)

    def restore(self) -> None:
        """Leave the lab whole: every node connected and running, failures forgotten (a
        failure count left by one step must not steer the next one)."""
        for node in self.lab.nodes:
            self.lab.heal(node)
        for node in self.lab.nodes:
            if init_pid(node) is None:
                self.say("restore", f"starting {node.name}")
                self.lab.start(node)
        observer = self.observer()
        self.lab.run(observer, ["crm_resource", "--cleanup"], check=False)
        # ...and the re-probes that follow finished: the next step starts from a still cluster.
        self.lab.run(observer, ["crm_resource", "--wait", f"--timeout={SETTLED_TIMEOUT:.0f}s"],
                     check=False, timeout=SETTLED_TIMEOUT + 10)

    def needs(self, database: bool = True, nodes: int = 2) -> None:
        """Skip a step about replicated data on the Stateful floor (agents.py), or one that
        needs more nodes than the lab has."""
        if database and not agents.replicated(self.agent):
            raise StepSkipped("Pacemaker's Stateful (the floor) runs no replicated database")
        if len(self.lab.nodes) < nodes:
            raise StepSkipped(f"needs a {nodes}-node lab")
