"""Logging that behaves like ocf_log: files, debug switch, syslog facility, tag, tracing."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import syslog
from pathlib import Path

import pytest

from ocf_agents.ocf.log import Logger
from ocf_agents.ocf.run import Budget, Runner

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def syslog_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every openlog/syslog call, instead of writing to the host's syslog."""
    calls: list[tuple] = []
    monkeypatch.setattr(syslog, "openlog", lambda *args: calls.append(("openlog", *args)))
    monkeypatch.setattr(syslog, "syslog", lambda *args: calls.append(("syslog", *args)))
    return calls


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_messages_go_to_ha_logfile_with_the_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logfile = tmp_path / "ha.log"
    log = Logger({"HA_LOGFILE": str(logfile), "HA_LOGTAG": "mytag"}, "agent")
    log.info("hello")
    log.error("broken")
    (info, error) = lines(logfile)
    assert info.startswith("mytag:\t") and info.endswith(" INFO: hello")
    assert error.endswith(" ERR: broken")
    assert capsys.readouterr().err == ""


def test_pcmk_logfile_is_read_like_ha_logfile(tmp_path: Path) -> None:
    logfile = tmp_path / "pcmk.log"
    Logger({"PCMK_logfile": str(logfile)}, "agent").warning("careful")
    assert lines(logfile)[0].endswith(" WARNING: careful")


@pytest.mark.parametrize("ha_debug, logged", [(None, False), ("0", False), (" 0 ", False), ("1", True)])
def test_debug_is_logged_only_with_ha_debug_1(tmp_path: Path, ha_debug: str | None, logged: bool) -> None:
    logfile = tmp_path / "ha.log"
    environ = {"HA_LOGFILE": str(logfile)} | ({} if ha_debug is None else {"HA_debug": ha_debug})
    log = Logger(environ, "agent")
    log.debug("details")
    log.info("always")
    assert [line.rsplit(" ", 2)[-2:] for line in lines(logfile)] == (
        [["DEBUG:", "details"]] if logged else []
    ) + [["INFO:", "always"]]


def test_debug_goes_to_ha_debuglog_when_set(tmp_path: Path) -> None:
    logfile, debuglog = tmp_path / "ha.log", tmp_path / "debug.log"
    log = Logger({"HA_LOGFILE": str(logfile), "HA_DEBUGLOG": str(debuglog), "HA_debug": "1"}, "agent")
    log.debug("details")
    log.info("summary")
    assert [line.split(" ", 1)[1] for line in lines(debuglog)] == ["DEBUG: details"]
    assert [line.split(" ", 1)[1] for line in lines(logfile)] == ["INFO: summary"]


def test_without_any_destination_messages_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    Logger({"OCF_RESOURCE_INSTANCE": "db:0"}, "agent").info("visible")
    assert capsys.readouterr().err == f"agent(db:0)[{os.getpid()}]: INFO: visible\n"


def test_the_default_tag_without_instance_is_name_and_pid(capsys: pytest.CaptureFixture[str]) -> None:
    Logger({}, "agent").info("visible")
    assert capsys.readouterr().err == f"agent[{os.getpid()}]: INFO: visible\n"


def test_a_log_facility_sends_to_syslog_only(
    syslog_calls: list[tuple], capsys: pytest.CaptureFixture[str]
) -> None:
    log = Logger({"HA_LOGFACILITY": "local3", "HA_LOGTAG": "tag"}, "agent")
    log.crit("down")
    log.debug("hidden")
    assert syslog_calls == [
        ("openlog", "tag", 0, syslog.LOG_LOCAL3),
        ("syslog", syslog.LOG_CRIT, "CRIT: down"),
    ]
    assert capsys.readouterr().err == ""


def test_facility_none_means_no_syslog(syslog_calls: list[tuple], capsys: pytest.CaptureFixture[str]) -> None:
    Logger({"HA_LOGFACILITY": "none", "HA_LOGTAG": "tag"}, "agent").warning("still shown")
    assert syslog_calls == []
    assert capsys.readouterr().err == "tag: WARNING: still shown\n"


# Logs once with HA_LOGFACILITY=none, then once with local3, in a mount namespace of its own
# where /dev is a fresh tmpfs and /dev/log leads to the test's socket.
SYSLOG_CHILD = """
import os, subprocess, sys
subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "ocfa-test-dev", "/dev"], check=True)
os.symlink(sys.argv[1], "/dev/log")
from ocf_agents.ocf.log import Logger
Logger({"HA_LOGFACILITY": "none", "HA_LOGFILE": "/dev/null"}, "agent").warning("not to syslog")
Logger({"HA_LOGFACILITY": "local3", "HA_LOGTAG": "tag"}, "agent").warning("to syslog")
"""


def test_real_syslog_gets_the_facility_priority_and_tag(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a child its own /dev/log in a mount namespace")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(tmp_path / "log"))
        child = [sys.executable, "-c", SYSLOG_CHILD, str(tmp_path / "log")]
        unshare = ["unshare", "--mount", "--propagation", "private"]
        subprocess.run(unshare + child, cwd=REPO, check=True, timeout=30)
        server.setblocking(False)  # the child has exited: whatever it sent is queued
        (message,) = [server.recv(4096).decode()]
        with pytest.raises(BlockingIOError):
            server.recv(4096)
    priority = syslog.LOG_LOCAL3 | syslog.LOG_WARNING
    assert message.startswith(f"<{priority}>")
    assert message.endswith(" tag: WARNING: to syslog")


def test_an_unknown_level_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown log level 'notice'"):
        Logger({}, "agent").log("notice", "x")


def test_an_unwritable_log_file_is_reported_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Logger({"HA_LOGFILE": str(tmp_path / "missing-dir" / "ha.log")}, "agent").info("x")
    assert "cannot write log file" in capsys.readouterr().err


def test_messages_also_reach_a_terminal(tmp_path: Path) -> None:
    """Someone running the agent by hand sees its messages even when a log file is set."""
    logfile = tmp_path / "ha.log"
    primary, secondary = os.openpty()
    code = "from ocf_agents.ocf.log import Logger; Logger({'HA_LOGFILE': %r, 'HA_LOGTAG': 't'}).info('hi')"
    try:
        child = [sys.executable, "-c", code % str(logfile)]
        subprocess.run(child, cwd=REPO, stderr=secondary, check=True, timeout=30)
        os.close(secondary)
        secondary = -1
        assert os.read(primary, 1024).decode().strip() == "t: INFO: hi"
    finally:
        os.close(primary)
        if secondary >= 0:
            os.close(secondary)
    assert lines(logfile)[0].endswith(" INFO: hi")


def runner(environ: dict[str, str]) -> Runner:
    return Runner(Budget(30), Logger(environ, "agent"))


def test_ocf_trace_ra_traces_each_command_with_rc_and_output_to_the_trace_file(tmp_path: Path) -> None:
    tracefile = tmp_path / "trace"
    runner({"OCF_TRACE_RA": "1", "OCF_TRACE_FILE": str(tracefile)}).run(
        ["sh", "-c", "echo out; echo err >&2; exit 3"]
    )
    (line,) = lines(tracefile)
    assert re.fullmatch(r"\+ \d\d:\d\d:\d\d\.\d{3} agent\[\d+\] \+\d+ms sh -c echo out; echo err >&2; exit 3 "
                        r"-> rc=3 in \d+ms stdout='out' stderr='err'", line), line


def test_a_trace_says_how_long_each_command_took(tmp_path: Path) -> None:
    tracefile = tmp_path / "trace"
    runner({"OCF_TRACE_RA": "1", "OCF_TRACE_FILE": str(tracefile)}).run(["sleep", "0.2"])
    (line,) = lines(tracefile)
    took = int(re.search(r"-> rc=0 in (\d+)ms", line).group(1))
    since = int(re.search(r" \+(\d+)ms ", line).group(1))
    assert took >= 200 and since >= took, line


def test_the_resources_trace_ra_attribute_traces_as_resource_agents_do(tmp_path: Path) -> None:
    """``pcs resource update R trace_ra=1 trace_file=...``: what operators use for any agent."""
    tracefile = tmp_path / "trace"
    runner({"OCF_RESKEY_trace_ra": "1", "OCF_RESKEY_trace_file": str(tracefile)}).run(["true"])
    (line,) = lines(tracefile)
    assert re.search(r" true -> rc=0 in \d+ms ", line), line


def test_without_trace_file_traces_are_debug_lines(tmp_path: Path) -> None:
    logfile = tmp_path / "ha.log"
    runner({"OCF_TRACE_RA": "yes", "HA_LOGFILE": str(logfile)}).run(["true"])
    assert any(re.search(r"DEBUG: trace: \+\d+ms true -> rc=0 in \d+ms stdout='' stderr=''$", line)
               for line in lines(logfile))


def test_without_ocf_trace_ra_nothing_is_traced(tmp_path: Path) -> None:
    tracefile, logfile = tmp_path / "trace", tmp_path / "ha.log"
    runner({"OCF_TRACE_FILE": str(tracefile), "HA_LOGFILE": str(logfile)}).run(["true"])
    assert (lines(tracefile), lines(logfile)) == ([], [])


def test_an_unwritable_trace_file_costs_the_action_nothing_but_a_line_on_stderr(tmp_path: Path, capsys) -> None:
    """trace_file is the operator's string: a directory that does not exist must not turn
    every action into a traceback."""
    result = runner({"OCF_RESKEY_trace_ra": "1", "OCF_RESKEY_trace_file": str(tmp_path / "no" / "trace")}).run(["true"])
    assert result.rc == 0
    err = capsys.readouterr().err
    assert "cannot write log file" in err and "Traceback" not in err


def test_a_trace_ra_that_is_not_a_yes_traces_nothing(tmp_path: Path) -> None:
    tracefile = tmp_path / "trace"
    runner({"OCF_RESKEY_trace_ra": "garbage", "OCF_RESKEY_trace_file": str(tracefile)}).run(["true"])
    assert lines(tracefile) == []
