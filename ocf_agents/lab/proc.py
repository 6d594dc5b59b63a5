"""Running programs for the lab: argv lists only, bounded in time, failures in one line."""

from __future__ import annotations

import math
import time
from typing import Callable, Mapping, Sequence, TypeVar

from ocf_agents.ocf.codes import NotInstalledError
from ocf_agents.ocf.log import Logger
from ocf_agents.ocf.run import Budget, CommandTimeout, Result, Runner

from .layout import LabError

T = TypeVar("T")


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60.0,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run ``argv`` to completion with the OCF library's runner (argv only, bounded, stdin
    closed); with ``check``, a non-zero exit is a LabError naming the command."""
    runner = Runner(Budget(math.inf), Logger({}, "ocf-agents-lab"))
    try:
        result = runner.run(argv, input=input, timeout=timeout, env=env)
    except NotInstalledError:
        raise LabError(f"{argv[0]} is not installed (run: make deps)") from None
    except CommandTimeout as err:
        raise LabError(err.reason) from None
    if check and not result.ok:
        raise LabError(result.describe())
    return result


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
