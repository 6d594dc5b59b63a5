"""The lab's fence device: a daemon in the root namespace that powers lab nodes off and on.

A real cluster fences through a device outside its nodes (a power switch, a BMC); here that
device is this daemon, started by ``lab up`` (``python3 -m ocf_agents.lab.fence_device``)
and stopped by its PID at ``lab down``. It listens on the unix socket the fence agent
(``fence_agent.py``, installed as ``/usr/sbin/fence_ocfalab`` where fenced finds agents)
asks.

One request per connection, one line: ``off|on|status TARGET``, ``list`` or ``monitor``; one
answer: ``ok MESSAGE`` or ``error MESSAGE``. Every target is checked against the lab's state
file: only a lab node is ever touched, and powering one off is exactly ``lab crash``
(``nodes.crash``: SIGKILL of its INIT, checked to be the lab's, and a fresh network
namespace). Power actions run one at a time. A request whose sender died before its turn
(its node was powered off by the request before it: the two halves of a 2-node cluster
fencing each other) is not carried out, as a node without power cannot press a switch: the
first of two simultaneous requests wins. Every request is logged as a JSON line in
``FENCE_LOG``, which the drill reads to time the fence actions.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import ocf_agents

from . import network, nodes
from .fence_agent import AGENT_NAME, DEVICE_ACTIONS, FENCE_DIR, FENCE_SOCKET, MAX_LINE, TARGETED
from .layout import LAB_DIR, LabError, State
from .proc import wait_until

MODULE = "ocf_agents.lab.fence_device"
FENCE_PID_FILE = LAB_DIR / "fence-device.pid"
FENCE_LOG = LAB_DIR / "fence.log"  # one JSON line per request (FenceEvent)
FENCE_OUTPUT = LAB_DIR / "fence-device.out"  # the daemon's own stdout and stderr
# Where fenced finds agents. lab up writes a launcher there (a link would need an executable
# file in the package, and installs ship its modules as plain files).
AGENT_PATH = Path("/usr/sbin") / AGENT_NAME
LAUNCHER_MARK = "# the ocf-agents lab's fence agent: written by lab up, removed by lab down"
REQUEST_TIMEOUT = 10.0  # for the request line to arrive


@dataclass(frozen=True)
class FenceEvent:
    """One request the device answered (wall-clock times, to compare with other processes)."""

    requested: float
    done: float
    requester: str  # the lab node whose process asked, or "root" (the root namespace)
    action: str
    target: str
    ok: bool
    message: str


def parse_request(line: str) -> tuple[str, str | None]:
    """``ACTION [TARGET]`` -> (action, target); LabError for anything else."""
    words = line.split()
    if not words or words[0] not in DEVICE_ACTIONS:
        raise LabError(f"unknown request {line.strip()!r} (actions: {', '.join(DEVICE_ACTIONS)})")
    action, *rest = words
    targeted = action in TARGETED
    if len(rest) != (1 if targeted else 0):
        raise LabError(f"{action} takes {'one target node' if targeted else 'no argument'}, "
                       f"not {line.strip()!r}")
    return action, (rest[0] if targeted else None)


def pid_namespace(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def requester_of(pid: int, state: State) -> str:
    """The lab node a process runs in (by its PID namespace), or "root"."""
    own = pid_namespace(pid)
    for node in state.nodes:
        init = nodes.init_pid(node)
        if own is not None and init is not None and pid_namespace(init) == own:
            return node.name
    return "root"


def peer_pid(sock: socket.socket) -> int:
    """The PID (in our namespace) of the process at the other end of a unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


class Device:
    """Carries out requests on the lab's nodes, power actions one at a time."""

    def __init__(self) -> None:
        self._power = threading.Lock()

    def serve(self, line: str, peer: int) -> FenceEvent:
        requested = time.time()
        action, target, requester = line.strip().partition(" ")[0], "", "?"
        try:
            action, maybe_target = parse_request(line)
            target = maybe_target or ""
            state = State.load()
            requester = requester_of(peer, state)
            ok, message = True, self._act(action, target, state, peer)
        except (LabError, OSError) as err:  # the requester hears why, in one line
            ok, message = False, str(err)
        return FenceEvent(requested, time.time(), requester, action, target, ok, message)

    def _act(self, action: str, target: str, state: State, peer: int) -> str:
        if action == "list":
            return " ".join(n.name for n in state.nodes)
        if action == "monitor":
            return "device ready"
        node = state.node(target)  # LabError naming the lab's nodes for anything else
        if action == "status":
            return "off" if nodes.init_pid(node) is None else "on"
        with self._power:
            if pid_namespace(peer) is None:
                raise LabError(f"the requester (pid {peer}) died before its turn: "
                               f"{target} left as it is")
            running = nodes.init_pid(node) is not None
            if action == "off":
                if not running:
                    return f"{target} was already off"
                nodes.crash(node)
                return f"{target} powered off"
            if running:
                return f"{target} was already on"
            if not network.netns_exists(node.netns):
                network.create_node_network(node)
            nodes.start(node, state.agent)
            return f"{target} powered on (booting)"


class Handler(socketserver.StreamRequestHandler):
    timeout = REQUEST_TIMEOUT
    server: Server

    def handle(self) -> None:
        try:
            line = self.rfile.readline(MAX_LINE).decode(errors="replace")
        except (OSError, socket.timeout):
            return
        event = self.server.device.serve(line, peer_pid(self.request))
        self.server.log(event)
        answer = f"{'ok' if event.ok else 'error'} {event.message}\n"
        try:
            self.wfile.write(answer.encode())
        except OSError:
            pass  # the requester is gone (its node was powered off)


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path) -> None:
        self.device = Device()
        self._log_lock = threading.Lock()
        super().__init__(str(path), Handler)
        os.chmod(path, 0o600)

    def log(self, event: FenceEvent) -> None:
        with self._log_lock:
            fd = os.open(FENCE_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as out:
                out.write(json.dumps(asdict(event)) + "\n")


def read_events(since: float = 0.0) -> list[FenceEvent]:
    """The device's log: requests answered at or after ``since`` (wall clock)."""
    try:
        lines = FENCE_LOG.read_text().splitlines()
    except FileNotFoundError:
        return []
    events = [FenceEvent(**json.loads(line)) for line in lines if line.strip()]
    return [e for e in events if e.requested >= since]


# -- the daemon's life, for lab up and lab down ----------------------------------------------
def launcher_text() -> str:
    """``fence_ocfalab``: the system Python (as fenced runs agents: -I, no environment's
    paths; -S, no site) running ``fence_agent.main`` of this very package."""
    package_root = Path(ocf_agents.__file__).resolve().parent.parent
    return (f"#!/usr/bin/python3 -IS\n{LAUNCHER_MARK}\nimport sys\n"
            f"sys.path.insert(0, {str(package_root)!r})\n"
            "from ocf_agents.lab.fence_agent import main\nsys.exit(main())\n")


def _is_our_launcher(path: Path) -> bool:
    try:
        return LAUNCHER_MARK in path.read_text(errors="replace").splitlines()[:2]
    except (FileNotFoundError, IsADirectoryError):
        return False


def install_launcher(path: Path = AGENT_PATH) -> None:
    """Write the fence agent where fenced finds agents (root, 0755); never over a file
    that is not ours."""
    if os.path.lexists(path) and not _is_our_launcher(path):
        raise LabError(f"{path} exists and is not the lab's fence agent: not replacing it")
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    with os.fdopen(fd, "w") as out:
        out.write(launcher_text())
    os.chmod(tmp, 0o755)
    tmp.replace(path)


def remove_launcher(path: Path = AGENT_PATH) -> None:
    if _is_our_launcher(path):
        path.unlink()


def _is_device(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MODULE.encode() in cmdline and str(FENCE_SOCKET).encode() in cmdline


def device_pids() -> list[int]:
    """The devices running, by their PID file, else (the lab's state lost) by their command
    line: our module serving our socket, nothing else."""
    try:
        recorded = int(FENCE_PID_FILE.read_text())
        return [recorded] if _is_device(recorded) else []
    except (FileNotFoundError, ValueError):
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and _is_device(int(p))]


def start() -> int:
    """Start the device (socket directory 0700, socket 0600), install the fence agent where
    fenced finds agents, and return the daemon's PID once it listens."""
    FENCE_DIR.mkdir(mode=0o700, exist_ok=True)
    os.chmod(FENCE_DIR, 0o700)
    FENCE_SOCKET.unlink(missing_ok=True)
    package_root = str(Path(ocf_agents.__file__).resolve().parent.parent)
    with open(FENCE_OUTPUT, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, str(FENCE_SOCKET)],
                                env={**os.environ, "PYTHONPATH": package_root},
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd="/")
    FENCE_PID_FILE.write_text(str(proc.pid))

    def listening() -> bool:
        if proc.poll() is not None:
            raise LabError(f"the fence device exited with status {proc.returncode}: "
                           f"{nodes.tail(FENCE_OUTPUT)}")
        return FENCE_SOCKET.exists()

    wait_until("the fence device to listen", listening, timeout=10, interval=0.05)
    install_launcher()
    return proc.pid


def stop() -> None:
    """Stop the device by its PID, remove its socket and the agent (only ours)."""
    for pid in device_pids():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        wait_until("the fence device to exit", lambda: not _is_device(pid), timeout=10)
    remove_launcher()
    FENCE_SOCKET.unlink(missing_ok=True)
    if FENCE_DIR.is_dir():
        FENCE_DIR.rmdir()
    FENCE_PID_FILE.unlink(missing_ok=True)


def main() -> None:
    path = Path(sys.argv[1])
    server = Server(path)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    finally:
        server.server_close()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
