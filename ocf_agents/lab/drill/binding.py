"""The integration guide's contract, end to end: a new VM port comes up on a chassis.

What a cloud's operators care about after a fail-over is that a new VM port works again. The
port's path crosses the whole control plane: the cloud's provider creates a logical switch
port through the northbound VIP (``ovn-nbctl`` from the client namespace, the port's MAC and
addresses set, as oVirt's provider does); ovn-northd (on the promoted node) turns it into a
southbound Port_Binding; the hypervisor plugs an OVS internal interface on ``br-int`` with
``external_ids:iface-id=<port>``, ``attached-mac`` and ``iface-status=active`` (as VDSM
does); its ovn-controller, connected to the southbound VIP, claims the binding for its chassis
and reports the port installed; ovn-northd sets ``up=true`` on the northbound port.

:func:`bind_port` does all of it and returns the time from a given moment (a fault) until the
port is bound to that chassis and up. It creates the port again when it was lost (a write
acknowledged by a server that then crashed), so that the time measured is the time until a
port created after the fault works, whatever the fault lost.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from ..chassis import INTEGRATION_BRIDGE, Chassis, sb_remote
from ..layout import LabError
from ..nodes import node_run
from ..proc import run
from ..writer import in_client_netns, nb_db

PROBE_SWITCH = "drill-binding"  # the probe ports' logical switch
CTL_TIMEOUT_S = 2  # one ovn-nbctl / ovn-sbctl request (connect + answer)
POLL_S = 0.1
BIND_TIMEOUT_S = 90.0
# What the northbound says of a port: up, not up yet, not there (lost), or no answer.
UP, DOWN, MISSING, UNKNOWN = "up", "down", "missing", "unknown"


@dataclass(frozen=True)
class ProbePort:
    """One probe port: its logical switch port, the chassis it is plugged on, its MAC/IP."""

    seq: int
    chassis: Chassis
    prefix: str = "drill"

    @property
    def lsp(self) -> str:
        return f"{self.prefix}-vm{self.seq}"

    @property
    def iface(self) -> str:
        """The OVS interface on the chassis: IFNAMSIZ-short, and unique in the lab (drills
        run one after the other on one lab reuse sequence numbers, not prefixes)."""
        return "vm" + hashlib.sha1(self.lsp.encode()).hexdigest()[:12]

    @property
    def mac(self) -> str:
        """Locally administered, unicast, unique per probe port."""
        return "0a:00:{:02x}:{:02x}:{:02x}:{:02x}".format(*self.seq.to_bytes(4, "big"))

    @property
    def ip(self) -> str:
        return f"172.31.{self.seq // 250}.{self.seq % 250 + 1}"


def ctl_argv(tool: str, db: str, *args: str) -> list[str]:
    """``ovn-nbctl``/``ovn-sbctl`` through a VIP from the client namespace, answers as bare
    CSV (one row per line, no headings)."""
    return in_client_netns([tool, f"--db={db}", f"--timeout={CTL_TIMEOUT_S}", "-f", "csv",
                            "--data=bare", "--no-headings", *args])


def create(port: ProbePort) -> bool:
    """The provider's write: switch (if new), port, its MAC and address in one transaction;
    True when acknowledged."""
    return run(ctl_argv("ovn-nbctl", nb_db(), "--may-exist", "ls-add", PROBE_SWITCH,
                        "--", "--may-exist", "lsp-add", PROBE_SWITCH, port.lsp,
                        "--", "lsp-set-addresses", port.lsp, f"{port.mac} {port.ip}"),
               check=False, timeout=CTL_TIMEOUT_S + 5).ok


def plug(port: ProbePort) -> None:
    """The hypervisor's part: an internal interface on br-int that names the port."""
    node_run(port.chassis, [
        "ovs-vsctl", "--timeout=10", "--may-exist", "add-port", INTEGRATION_BRIDGE, port.iface,
        "--", "set", "Interface", port.iface, "type=internal",
        f"external_ids:iface-id={port.lsp}", f"external_ids:attached-mac={port.mac}",
        "external_ids:iface-status=active"], timeout=20)


def parse_up(ok: bool, stdout: str) -> str:
    """The northbound's ``up`` column of one port (``find`` by name) as UP/DOWN/MISSING, or
    UNKNOWN when ovn-nbctl did not get an answer."""
    if not ok:
        return UNKNOWN
    rows = stdout.splitlines()
    if not rows:
        return MISSING
    return UP if rows[0].strip() == "true" else DOWN


def parse_bound(ok: bool, stdout: str) -> bool:
    """Two answers of one ovn-sbctl call (separated by an empty line, each a line or none):
    the chassis's row, then the row the port's binding names as its chassis; bound when both
    are there and the same row."""
    rows = [line.strip() for line in stdout.splitlines() if line.strip()]
    return ok and len(rows) == 2 and rows[0] == rows[1]


def nb_state(port: ProbePort) -> str:
    proc = run(ctl_argv("ovn-nbctl", nb_db(), "--columns=up", "find", "Logical_Switch_Port",
                        f"name={port.lsp}"), check=False, timeout=CTL_TIMEOUT_S + 5)
    return parse_up(proc.ok, proc.stdout)


def bound(port: ProbePort) -> bool:
    """The southbound Port_Binding of the port names the port's chassis."""
    proc = run(ctl_argv("ovn-sbctl", sb_remote(), "--columns=_uuid", "find", "Chassis",
                        f"name={port.chassis.name}", "--", "--columns=chassis", "find",
                        "Port_Binding", f"logical_port={port.lsp}"),
               check=False, timeout=CTL_TIMEOUT_S + 5)
    return parse_bound(proc.ok, proc.stdout)


def working(port: ProbePort) -> bool:
    """Bound to its chassis in the southbound and up in the northbound."""
    return nb_state(port) == UP and bound(port)


def bind_port(port: ProbePort, since: float, stop: threading.Event | None = None,
              timeout: float = BIND_TIMEOUT_S, phases: dict[str, float] | None = None) -> float:
    """Create ``port`` through the NB VIP (again until acknowledged, and again if it is lost),
    plug it on its chassis and wait until it is bound there and up; the seconds from
    ``since`` (time.monotonic()) to that moment. ``phases`` gets the seconds from ``since``
    to where the time went: ``created`` (the last acknowledged create), ``bound`` (first seen
    bound in the southbound) and ``up`` (first seen up in the northbound). LabError when it
    does not happen within ``timeout`` or ``stop`` is set."""
    phases = {} if phases is None else phases
    deadline = time.monotonic() + timeout
    created = plugged = False
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        if not created:
            created = create(port)
            if created:
                phases["created"] = time.monotonic() - since
        elif not plugged:
            plug(port)
            plugged = True
        else:
            state, is_bound = nb_state(port), bound(port)
            for phase, seen in (("bound", is_bound), ("up", state == UP)):
                if seen:
                    phases.setdefault(phase, time.monotonic() - since)
            if state == UP and is_bound:
                return time.monotonic() - since
            created = state != MISSING
        time.sleep(0 if created and not plugged else POLL_S)
    raise LabError(f"port {port.lsp} not bound and up on {port.chassis.name} after "
                   f"{time.monotonic() - since:.1f}s")


class BindingProbe:
    """``bind_port`` in a thread of its own, started right after a fault, so that the step's
    own waits do not delay the measurement; ``result`` collects it."""

    def __init__(self, port: ProbePort, since: float) -> None:
        self.port = port
        self.since = since
        self.seconds: float | None = None
        self.phases: dict[str, float] = {}  # bind_port's: where the time went
        self.error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bind {port.lsp}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.seconds = bind_port(self.port, self.since, self._stop, phases=self.phases)
        except LabError as err:
            self.error = str(err)

    def result(self, timeout: float = BIND_TIMEOUT_S) -> float | None:
        """The seconds measured (None with ``error`` set when the port never worked),
        waiting at most ``timeout`` for the probe, then stopping it."""
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join(CTL_TIMEOUT_S + 10)
        return self.seconds
