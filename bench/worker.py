"""Runs commands for the benchmark inside one node's network namespace and times them.

The driver starts one worker per node (``nsenter --net=... python3 worker.py``) and sends it
one JSON request per line: ``{"argv": [...], "env": {...}, "timeout": seconds}``. The worker
answers one JSON line: exit status, wall time and the CPU time of the command and of every
child it waited for (``os.wait4``'s rusage), with stdout and stderr. Timing in the worker keeps
``nsenter`` and the driver's own overhead out of the numbers, and the servers an agent starts
live in the worker's namespace, as they would on the node.

Standard library only: it runs with the system python3, like the agents.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time


def _read_fd(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def run(argv: list[str], env: dict[str, str], timeout: float) -> dict:
    """Spawn ``argv`` in its own session (so that a timeout kills all of it), wait, measure."""
    out, err = os.memfd_create("stdout"), os.memfd_create("stderr")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, out, 1),
        (os.POSIX_SPAWN_DUP2, err, 2),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
    pidfd = os.pidfd_open(pid)
    timed_out = not select.select([pidfd], [], [], timeout)[0]
    if timed_out:
        os.killpg(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    os.close(pidfd)
    return {
        "rc": None if timed_out else os.waitstatus_to_exitcode(status),
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "stdout": _read_fd(out),
        "stderr": _read_fd(err),
    }


def main() -> int:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = run(request["argv"], request["env"], request.get("timeout", 60.0))
        except OSError as error:
            answer = {"rc": None, "wall": 0.0, "user": 0.0, "sys": 0.0, "stdout": "", "stderr": str(error)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
