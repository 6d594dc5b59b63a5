"""Whether a silent server works: ocf_agents.ovs.ovsdb.cpu_ticks against real processes this
test starts (and kills by PID). Against a real ovsdb-server kept busy, and one stopped, the
same code runs in tests/integration/test_ovndb_agent.py's monitor tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ocf_agents.ovs import ovsdb

SAMPLE = 0.25  # as the agent gives a server (ocf_agents/agents/ovndb/state.py QUICK_ANSWER)


@pytest.fixture
def child() -> Iterator[Callable[[str], subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(code: str) -> subprocess.Popen:
        """Run ``code`` once the interpreter has started (its start uses CPU too)."""
        proc = subprocess.Popen([sys.executable, "-c", f"print(flush=True)\n{code}"], stdout=subprocess.PIPE)
        started.append(proc)
        proc.stdout.readline()
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def settle(pid: int, state: str) -> None:
    """Wait until the kernel shows the process in ``state`` (S sleeping, T stopped): a signal
    or a sleep takes effect a moment after the call that asked for it, and a clock tick in that
    moment would count as work."""
    for _ in range(200):
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            stat = f.read()
        if stat[stat.rfind(")") + 2] == state:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never reached state {state}")


def worked(pid: int) -> bool:
    before = ovsdb.cpu_ticks(pid)
    time.sleep(SAMPLE)
    after = ovsdb.cpu_ticks(pid)
    return before is not None and after is not None and after > before


def test_a_process_using_cpu_works(child):
    assert worked(child("while True: pass").pid)


def test_a_sleeping_process_does_not_work(child):
    proc = child("import time; time.sleep(60)")
    settle(proc.pid, "S")
    assert not worked(proc.pid)


def test_a_stopped_process_does_not_work_though_it_was_busy(child):
    proc = child("while True: pass")
    proc.send_signal(signal.SIGSTOP)
    settle(proc.pid, "T")
    assert not worked(proc.pid)


def test_a_process_that_is_gone_has_no_cpu_time(child):
    proc = child("pass")
    proc.wait()
    assert ovsdb.cpu_ticks(proc.pid) is None


def pidfile_of(proc: subprocess.Popen, tmp_path) -> str:
    path = tmp_path / "daemon.pid"
    path.write_text(f"{proc.pid}\n")
    return str(path)


def program_of(proc: subprocess.Popen) -> str:
    with open(f"/proc/{proc.pid}/comm", encoding="ascii") as f:
        return f.read().strip()


def test_a_daemon_that_exits_on_sigterm_is_stopped_and_reaped(child, tmp_path):
    proc = child("import time; time.sleep(60)")
    pidfile = pidfile_of(proc, tmp_path)
    reaper = threading.Thread(target=proc.wait)  # as the daemon's --monitor parent
    reaper.start()
    assert ovsdb.stop_daemon(pidfile, program_of(proc), 5.0)
    reaper.join()
    assert proc.returncode == -signal.SIGTERM


def test_a_daemon_that_ignores_sigterm_is_reported_alive_after_the_timeout(child, tmp_path):
    proc = child("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)")
    proc.stdout.readline()  # SIGTERM ignored from now on
    assert not ovsdb.stop_daemon(pidfile_of(proc, tmp_path), program_of(proc), 0.2)
    assert proc.poll() is None  # still running: the caller escalates


def test_a_pidfile_naming_another_program_stops_nothing(child, tmp_path):
    proc = child("import time; time.sleep(60)")
    assert ovsdb.stop_daemon(pidfile_of(proc, tmp_path), "ovn-northd", 1.0)
    assert proc.poll() is None


def test_no_pidfile_means_nothing_to_stop(tmp_path):
    assert ovsdb.stop_daemon(str(tmp_path / "none.pid"), "ovn-northd", 1.0)
