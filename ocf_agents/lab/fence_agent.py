"""``fence_ocfalab``: the lab's fence agent, as Pacemaker's fenced and ``stonith_admin`` run it.

Pacemaker's fenced runs a fence agent inside the node that fences, in that node's PID and
mount namespaces: from there it can neither see nor signal another node's processes. So the
agent only asks: it sends one line (``off node2``) over a unix socket to the lab's fence
device (``fence_device.py``), a daemon in the root namespace that powers lab nodes off and on,
and turns the answer into a fence agent's output and exit status. The socket is on the root
file system outside /run (which is a fresh tmpfs in every node), and nodes share that file
system, so every node reaches the same socket; unix sockets on the file system work across
network namespaces.

The protocol is the fence-agents one (FenceAgentAPI): ``key=value`` lines on stdin (blank
lines and ``#`` comments skipped, unknown keys tolerated with a warning, as fence-agents'
library does), or ``-o ACTION`` / ``-n PLUG`` on the command line; ``port`` and ``plug`` name
the target, ``nodename`` is Pacemaker's name of it (used when no port is given). Exit status
0 for success, 1 for failure; ``status`` exits 0 for on and 2 for off.

Only the standard library is imported: this runs on every fence action and every monitor.
"""

from __future__ import annotations

import argparse
import socket
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

AGENT_NAME = "fence_ocfalab"
# The device's socket: on the root file system outside /run, so every node sees it.
FENCE_DIR = Path("/var/lib/ocfa-lab-fence")
FENCE_SOCKET = FENCE_DIR / "device.sock"
ANSWER_TIMEOUT = 50.0  # below Pacemaker's default fence timeout (60 s): fail, not be killed
MAX_LINE = 256

EXIT_OK, EXIT_FAILED, EXIT_OFF = 0, 1, 2
# What the device does; reboot is off then on, and metadata is answered here.
DEVICE_ACTIONS = ("off", "on", "status", "list", "monitor")
AGENT_ACTIONS = (*DEVICE_ACTIONS, "reboot", "metadata")
TARGETED = ("off", "on", "reboot", "status")
ACTION_KEYS = ("action", "option")  # "option" is the old name fence-agents still accept
TARGET_KEYS = ("port", "plug", "nodename")  # in this order of preference
# Keys fence-agents' library accepts on every agent; this agent needs none of them.
# The parameters the metadata declares: name, getopt, default, description.
PARAMETERS = (
    ("action", "-o, --action=[action]", "reboot",
     "Fencing action (off, on, reboot, status, list, monitor, metadata)"),
    ("plug", "-n, --plug=[node]", "", "The lab node to act on (node1, node2, node3)"),
    ("port", "-n, --plug=[node]", "", "The lab node to act on (same as plug)"),
    ("nodename", "-N, --nodename=[node]", "", "Pacemaker's name of the target, used when no "
     "plug is given"),
)
TOLERATED_KEYS = ("verbose", "debug", "debug_file", "delay", "timeout", "power_timeout",
                  "power_wait", "shell_timeout", "login_timeout", "retry_on", "separator",
                  "plug_separator", "port_as_ip", "agent")


class FenceError(Exception):
    """A request that cannot be carried out; the message says why, in one line."""


@dataclass(frozen=True)
class Request:
    """One fence action on one target (no target for list and monitor)."""

    action: str
    target: str | None = None

    def line(self) -> str:
        """The device protocol's request: ``ACTION [TARGET]``."""
        return f"{self.action} {self.target}" if self.target else self.action


def parse_options(lines: list[str], warn: TextIO = sys.stderr) -> dict[str, str]:
    """``key=value`` lines as fenced writes them to the agent's stdin."""
    options: dict[str, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise FenceError(f"not a key=value line: {line!r}")
        key = key.strip()
        if key not in (*ACTION_KEYS, *TARGET_KEYS, *TOLERATED_KEYS) \
                and not key.startswith("pcmk_"):
            print(f"{AGENT_NAME}: ignoring unknown option {key!r}", file=warn)
        options[key] = value.strip()
    return options


def request_from(options: dict[str, str]) -> Request:
    """The request the options ask for; the default action is reboot, as in fence-agents."""
    action = next((options[k] for k in ACTION_KEYS if options.get(k)), "reboot")
    if action not in AGENT_ACTIONS:
        raise FenceError(f"unknown action {action!r} (actions: {', '.join(AGENT_ACTIONS)})")
    if action not in TARGETED:
        return Request(action)
    target = next((options[k] for k in TARGET_KEYS if options.get(k)), None)
    if target is None:
        raise FenceError(f"action {action} needs a target: port=, plug= or nodename=")
    return Request(action, target)


def parse_answer(line: str) -> tuple[bool, str]:
    """The device's answer: ``ok MESSAGE`` or ``error MESSAGE``."""
    word, _, message = line.strip().partition(" ")
    if word not in ("ok", "error"):
        raise FenceError(f"unexpected answer from the fence device: {line.strip()!r}")
    return word == "ok", message


def ask_device(request: Request, path: Path = FENCE_SOCKET,
               timeout: float = ANSWER_TIMEOUT) -> str:
    """Send one request to the fence device and return its message; FenceError when the
    device refuses it or cannot be reached."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(request.line().encode() + b"\n")
            answer = sock.makefile("rb").readline(MAX_LINE * 16).decode(errors="replace")
    except OSError as err:
        raise FenceError(f"the lab's fence device at {path} does not answer: {err} "
                         "(is the lab up?)") from None
    ok, message = parse_answer(answer)
    if not ok:
        raise FenceError(message)
    return message


def metadata() -> str:
    """Fence-agent metadata, in the shape fence-agents' library prints it (what fenced reads
    to learn the actions and the target parameter, and ``pcs stonith describe`` shows)."""
    root = ET.Element("resource-agent", name=AGENT_NAME,
                      shortdesc="Fence agent for the ocf-agents lab")
    ET.SubElement(root, "longdesc").text = (
        "Powers a node of the ocf-agents lab (a Corosync+Pacemaker node in namespaces on one "
        "machine) off the way `ocf-agents lab crash` does: SIGKILL of the node's INIT, a fresh "
        "network namespace. It asks the lab's fence device, a daemon of `ocf-agents lab up` "
        f"listening on {FENCE_SOCKET}. For the lab only.")
    ET.SubElement(root, "vendor-url").text = "https://clusterlabs.org"
    parameters = ET.SubElement(root, "parameters")
    for name, getopt, default, desc in PARAMETERS:
        param = ET.SubElement(parameters, "parameter", name=name, unique="0", required="0")
        ET.SubElement(param, "getopt", mixed=getopt)
        ET.SubElement(param, "content", type="string", **({"default": default} if default else {}))
        ET.SubElement(param, "shortdesc", lang="en").text = desc
    actions = ET.SubElement(root, "actions")
    for action in AGENT_ACTIONS:
        ET.SubElement(actions, "action", name=action)
    ET.indent(root)
    return '<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def perform(request: Request, ask=ask_device, out: TextIO = sys.stdout) -> int:
    """Carry out ``request`` through the device (``ask``); the fence agent's exit status."""
    if request.action == "metadata":
        out.write(metadata())
        return EXIT_OK
    if request.action == "reboot":
        ask(Request("off", request.target))
        ask(Request("on", request.target))
        out.write("Success: Rebooted\n")
        return EXIT_OK
    message = ask(request)
    if request.action == "status":
        out.write(f"Status: {message.upper()}\n")
        return EXIT_OK if message == "on" else EXIT_OFF
    if request.action == "list":
        out.write("".join(f"{name}\n" for name in message.split()))
    elif request.action in ("off", "on"):
        out.write(f"Success: {message}\n")
    return EXIT_OK


def read_request(argv: list[str], stdin: TextIO) -> Request:
    """The request from the command line (``-o``, ``-n``) or, without one, from stdin."""
    parser = argparse.ArgumentParser(prog=AGENT_NAME, add_help=True)
    parser.add_argument("-o", "--action")
    parser.add_argument("-n", "--plug")
    parser.add_argument("-N", "--nodename")
    args = parser.parse_args(argv)
    options = {k: v for k, v in vars(args).items() if v}
    if not options:
        options = parse_options(stdin.read(MAX_LINE * 64).splitlines())
    return request_from(options)


def main(argv: list[str] | None = None) -> int:
    try:
        return perform(read_request(sys.argv[1:] if argv is None else argv, sys.stdin))
    except FenceError as err:
        print(f"{AGENT_NAME}: Failed: {err}", file=sys.stderr)
        return EXIT_FAILED
