"""Running programs for the lab: argv lists only, bounded in time, failures in one line."""

from __future__ import annotations

import subprocess
import time
from typing import Callable, Mapping, Sequence, TypeVar

from .layout import LabError

T = TypeVar("T")


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60.0,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion; with ``check``, a non-zero exit is a LabError naming it."""
    argv = [str(a) for a in argv]
    try:
        proc = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise LabError(f"{argv[0]} is not installed (run: make deps)") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"'{' '.join(argv)}' did not finish within {timeout:.0f}s") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"'{' '.join(argv)}' exited {proc.returncode}"
                       + (f": {detail[-1]}" if detail else ""))
    return proc


def wait_until(what: str, check: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns something true; a LabError naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise LabError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
