"""The lab's fence agent and device without a lab: the fence-agents protocol (options on stdin,
actions, exit codes, metadata) and the device's request checks.

The same agent runs for real under Pacemaker's fenced and stonith_admin in test_fence.py.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ocf_agents.lab import fence_agent, fence_device
from ocf_agents.lab.fence_agent import (EXIT_FAILED, EXIT_OFF, EXIT_OK, FenceError, Request,
                                        parse_answer, parse_options, perform, request_from)
from ocf_agents.lab.layout import LabError, State



def options(text: str) -> dict[str, str]:
    return parse_options(text.splitlines(), warn=io.StringIO())


def test_stdin_options_as_fenced_writes_them() -> None:
    parsed = options("# from fenced\naction=off\n\nport=node2\nnodename=node2\n"
                     "pcmk_host_list=node1\n  plug = node2 \n")
    assert parsed == {"action": "off", "port": "node2", "nodename": "node2",
                      "pcmk_host_list": "node1", "plug": "node2"}
    assert request_from(parsed) == Request("off", "node2")


def test_unknown_options_are_tolerated_with_a_warning() -> None:
    warn = io.StringIO()
    assert parse_options(["action=list", "ipaddr=10.0.0.1"], warn=warn) == {
        "action": "list", "ipaddr": "10.0.0.1"}
    assert "ignoring unknown option 'ipaddr'" in warn.getvalue()
    quiet = io.StringIO()
    parse_options(["verbose=1", "pcmk_delay_max=2"], warn=quiet)
    assert quiet.getvalue() == ""


def test_a_line_without_equals_is_refused() -> None:
    with pytest.raises(FenceError, match="not a key=value line"):
        options("action=off\nnode2\n")


@pytest.mark.parametrize("given, expected", [
    ({"action": "reboot", "plug": "node3"}, Request("reboot", "node3")),
    ({"option": "off", "port": "node1"}, Request("off", "node1")),  # the old name of action
    ({"action": "status", "nodename": "node2"}, Request("status", "node2")),  # no port: nodename
    ({"action": "off", "port": "node1", "nodename": "node2"}, Request("off", "node1")),
    ({"port": "node1"}, Request("reboot", "node1")),  # fence-agents' default action
    ({"action": "list"}, Request("list")),
    ({"action": "monitor", "port": "node1"}, Request("monitor")),  # a target is not needed
    ({"action": "metadata"}, Request("metadata")),
])
def test_request_from_options(given: dict[str, str], expected: Request) -> None:
    assert request_from(given) == expected


def test_targeted_actions_need_a_target_and_actions_must_be_known() -> None:
    with pytest.raises(FenceError, match="action off needs a target"):
        request_from({"action": "off"})
    with pytest.raises(FenceError, match="unknown action 'destroy'"):
        request_from({"action": "destroy", "port": "node1"})


class Device:
    """A fake device for the agent's logic: records requests, answers from a table."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.asked = answers, []

    def __call__(self, request: Request) -> str:
        self.asked.append(request.line())
        answer = self.answers[request.line()]
        ok, message = parse_answer(answer)
        if not ok:
            raise FenceError(message)
        return message


def test_status_exits_0_when_on_and_2_when_off() -> None:
    out = io.StringIO()
    assert perform(Request("status", "node1"), Device({"status node1": "ok on"}), out) == EXIT_OK
    assert perform(Request("status", "node2"), Device({"status node2": "ok off"}), out) == EXIT_OFF
    assert out.getvalue() == "Status: ON\nStatus: OFF\n"


def test_reboot_is_off_then_on_and_list_prints_one_node_a_line() -> None:
    device = Device({"off node2": "ok node2 powered off", "on node2": "ok node2 powered on",
                     "list": "ok node1 node2 node3"})
    out = io.StringIO()
    assert perform(Request("reboot", "node2"), device, out) == EXIT_OK
    assert perform(Request("list"), device, out) == EXIT_OK
    assert device.asked == ["off node2", "on node2", "list"]
    assert out.getvalue() == "Success: Rebooted\nnode1\nnode2\nnode3\n"


def test_a_refusal_is_the_devices_reason() -> None:
    with pytest.raises(FenceError, match="no node 'node9'"):
        perform(Request("off", "node9"), Device({"off node9": "error no node 'node9' in the lab"}))
    with pytest.raises(FenceError, match="unexpected answer"):
        parse_answer("maybe\n")


@pytest.fixture
def launcher(tmp_path: Path) -> Path:
    """The launcher lab up writes as /usr/sbin/fence_ocfalab, written here instead."""
    path = tmp_path / "fence_ocfalab"
    fence_device.install_launcher(path)
    return path


def run_launcher(launcher: Path, stdin: str, *argv: str):
    return subprocess.run([str(launcher), *argv], input=stdin, capture_output=True, text=True,
                          timeout=30, env={})


def test_the_launcher_is_executable_replaced_only_if_ours_and_removed_only_if_ours(
        tmp_path: Path, launcher: Path) -> None:
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o755
    fence_device.install_launcher(launcher)  # ours: rewritten
    foreign = tmp_path / "fence_other"
    foreign.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(LabError, match="is not the lab's fence agent"):
        fence_device.install_launcher(foreign)
    fence_device.remove_launcher(foreign)
    assert foreign.read_text() == "#!/bin/sh\nexit 0\n"
    fence_device.remove_launcher(launcher)
    assert not launcher.exists()


def test_metadata_works_with_an_empty_environment_and_declares_the_protocol(
        launcher: Path) -> None:
    for proc in (run_launcher(launcher, "action=metadata\n"),
                 run_launcher(launcher, "", "-o", "metadata")):
        assert proc.returncode == EXIT_OK, proc.stderr
        root = ET.fromstring(proc.stdout)
        assert root.tag == "resource-agent" and root.get("name") == "fence_ocfalab"
        assert root.get("shortdesc") and root.findtext("longdesc")
        params = {p.get("name"): p for p in root.iterfind("./parameters/parameter")}
        assert {"action", "port", "plug", "nodename"} <= set(params)
        for param in params.values():
            assert param.find("getopt").get("mixed") and param.find("content") is not None
            assert param.find("shortdesc").get("lang") == "en"
        actions = {a.get("name") for a in root.iterfind("./actions/action")}
        assert actions == {"on", "off", "reboot", "status", "monitor", "list", "metadata"}


# Runs $1 with an empty tmpfs over the directory $0, in a mount namespace of its own: no lab's
# device can answer there (the arguments are passed as arguments, never put into the text).
WITHOUT_DEVICE = 'mount -t tmpfs -o mode=0700 tmpfs "$0" && exec "$1"'


def test_agent_without_a_device_fails_with_exit_1_saying_where_it_looked(launcher: Path) -> None:
    """Where no device listens, the agent fails (1) naming the socket it tried. When a lab is
    up here (its device listening), the agent runs where the device's directory is empty."""
    directory = fence_agent.FENCE_SOCKET.parent
    if directory.exists():
        argv = ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                WITHOUT_DEVICE, str(directory), str(launcher)]
    else:
        argv = [str(launcher)]
    proc = subprocess.run(argv, input="action=off\nport=node1\n", capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert proc.returncode == EXIT_FAILED, proc.stderr
    assert f"fence device at {fence_agent.FENCE_SOCKET} does not answer" in proc.stderr


@pytest.mark.parametrize("line, expected", [
    ("off node2\n", ("off", "node2")), ("status node1", ("status", "node1")),
    ("list\n", ("list", None)), ("monitor", ("monitor", None)),
])
def test_device_requests(line: str, expected: tuple[str, str | None]) -> None:
    assert fence_device.parse_request(line) == expected


@pytest.mark.parametrize("line, message", [
    ("", "unknown request"), ("reboot node1", "unknown request"), ("kill 1", "unknown request"),
    ("off", "one target node"), ("off node1 node2", "one target node"),
    ("list node1", "no argument"),
])
def test_device_refuses_malformed_requests(line: str, message: str) -> None:
    with pytest.raises(LabError, match=message):
        fence_device.parse_request(line)


def test_agent_and_device_talk_over_a_unix_socket(tmp_path: Path) -> None:
    """The agent's client against a socket answering as the device does: one line each way."""
    path = tmp_path / "device.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    heard: list[str] = []

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            heard.append(conn.makefile("rb").readline().decode())
            conn.sendall(b"error no node 'node7' in the lab (nodes: node1, node2)\n")

    thread = threading.Thread(target=answer)
    thread.start()
    try:
        with pytest.raises(FenceError, match="no node 'node7' in the lab"):
            fence_agent.ask_device(Request("off", "node7"), path, timeout=5)
    finally:
        thread.join(5)
        server.close()
    assert heard == ["off node7\n"]


@pytest.fixture
def fake_lab(monkeypatch) -> list[str]:
    """The device's view of a 3-node lab whose node1 runs; the power actions it takes."""
    taken: list[str] = []
    monkeypatch.setattr(fence_device.State, "load", classmethod(lambda cls: State(3, "ovshalab")))
    monkeypatch.setattr(fence_device.nodes, "init_pid",
                        lambda node: 4242 if node.name == "node1" else None)
    monkeypatch.setattr(fence_device.nodes, "crash", lambda node: taken.append(f"crash {node.name}"))
    return taken


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_device_powers_off_only_a_running_lab_node(fake_lab: list[str]) -> None:
    device = fence_device.Device()
    event = device.serve("off node1\n", os.getpid())
    assert (event.ok, event.action, event.target, event.message) == (
        True, "off", "node1", "node1 powered off")
    assert device.serve("off node2", os.getpid()).message == "node2 was already off"
    refused = device.serve("off node9", os.getpid())
    assert not refused.ok and refused.message == "no node 'node9' in the lab (nodes: node1, node2, node3)"
    assert not device.serve("off /", os.getpid()).ok
    assert fake_lab == ["crash node1"]


def test_device_drops_a_request_whose_sender_died_before_its_turn(fake_lab: list[str]) -> None:
    """Two nodes fencing each other: the second request comes from a node the first one
    powered off, and is not carried out."""
    event = fence_device.Device().serve("off node1", dead_pid())
    assert not event.ok and "died before its turn" in event.message
    assert fake_lab == []


def test_device_status_and_list(fake_lab: list[str]) -> None:
    device = fence_device.Device()
    assert device.serve("status node1", os.getpid()).message == "on"
    assert device.serve("status node3", os.getpid()).message == "off"
    assert device.serve("list", os.getpid()).message == "node1 node2 node3"
    assert fake_lab == []
