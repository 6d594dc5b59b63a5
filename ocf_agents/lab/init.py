"""PID 1 of a lab node: mount the node's private directories, start its daemons, reap.

Started as ``ip netns exec NS unshare --mount --uts --pid --fork --propagation private
python3 -m ocf_agents.lab.init PLAN.json``. The plan (written by ``nodes.py``) says what to
mount and what to start, in order; this program only carries it out, so that a node "boots"
the same way every time. It uses nothing but the standard library and ``mount``.

A node stops only by being killed (SIGKILL from the root namespace): the kernel then kills
every process of its PID namespace, and its mounts vanish with its mount namespace. That is
how the lab crashes a node, and how ``lab down`` removes one.
"""

from __future__ import annotations

import json
import os
import pwd
import grp
import socket
import subprocess
import sys
import time


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} init: {message}", flush=True)


def sh(argv: list[str]) -> None:
    """Run one step to completion; a failure ends the node (it would not work anyway)."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        sys.exit(f"init: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")


def wait(argv: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL).returncode != 0:
        if time.monotonic() > deadline:
            sys.exit(f"init: gave up after {timeout:.0f}s waiting for: {' '.join(argv)}")
        time.sleep(0.1)


def make_dir(path: str, mode: str, owner: str, group: str) -> None:
    os.makedirs(path, exist_ok=True)
    os.chown(path, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
    os.chmod(path, int(mode, 8))


def boot(plan: dict) -> dict[int, str]:
    """Carry out the plan; returns the daemons started (pid -> name) for the reaper's log."""
    # The root namespace's view of our PID, for nsenter: /proc is still the host's here.
    with open(plan["pid_file"], "w") as out:
        out.write(os.readlink("/proc/self"))
    for source, target in plan["binds"]:
        sh(["mount", "--bind", source, target])
    sh(["mount", "-t", "proc", "proc", "/proc"])
    for target, options in plan["tmpfs"]:
        sh(["mount", "-t", "tmpfs", "-o", options, "tmpfs", target])
    for path, mode, owner, group in plan["dirs"]:
        make_dir(path, mode, owner, group)
    socket.sethostname(plan["hostname"])
    os.environ.update(plan["env"])
    os.chdir("/")
    daemons: dict[int, str] = {}
    for kind, argv, *rest in plan["steps"]:
        if kind == "run":
            sh(argv)
        elif kind == "wait":
            wait(argv, rest[0])
        else:  # spawn: a daemon in the foreground, our child
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
            daemons[proc.pid] = os.path.basename(argv[0])
        log(f"{kind} {' '.join(argv)}")
    log("node is up")
    return daemons


def reap(daemons: dict[int, str]) -> None:
    """PID 1's duty: collect every orphan that exits, forever."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            time.sleep(1)
            continue
        if pid in daemons:
            log(f"{daemons.pop(pid)} (pid {pid}) exited with status {status:#x}")


def main() -> None:
    with open(sys.argv[1]) as plan_file:
        plan = json.load(plan_file)
    reap(boot(plan))


if __name__ == "__main__":
    main()
