"""Whether a silent server works: ocf_agents.ovs.ovsdb.is_working against real processes this
test starts (and kills by PID). Against a real ovsdb-server kept busy, and one stopped, the
same code runs in tests/integration/test_ovndb_agent.py's monitor tests."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from ocf_agents.ovs import ovsdb

SAMPLE = 0.25  # as the monitor samples (ocf_agents/agents/ovndb/state.py BUSY_SAMPLE)


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


def test_a_process_using_cpu_is_working(child):
    proc = child("while True: pass")
    assert ovsdb.is_working(proc.pid, SAMPLE)


def test_a_sleeping_process_is_not_working(child):
    proc = child("import time; time.sleep(60)")
    assert not ovsdb.is_working(proc.pid, SAMPLE)


def test_a_stopped_process_is_not_working_though_it_was_busy(child):
    proc = child("while True: pass")
    proc.send_signal(signal.SIGSTOP)
    assert not ovsdb.is_working(proc.pid, SAMPLE)


def test_a_process_that_is_gone_is_not_working(child):
    proc = child("pass")
    proc.wait()
    assert not ovsdb.is_working(proc.pid, SAMPLE)
