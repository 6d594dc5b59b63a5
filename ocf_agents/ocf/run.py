"""Running external programs inside the time Pacemaker gave the action.

Pacemaker kills an agent that overruns ``OCF_RESKEY_CRM_meta_timeout``, and a killed start or
stop is a failed operation (a killed stop leads to fencing). So every external call and every
wait here draws on one :class:`Budget`, which keeps a margin back: when time runs out the
agent still has a moment to log what it was waiting for and return a clear failure.

Programs are always run from an argv list, never through a shell.
"""

from __future__ import annotations

import os
import time

from .codes import GenericError, NotInstalledError
from .log import Logger
from .record import Record

TYPE_CHECKING = False  # typing is imported by type checkers only (see .record)
if TYPE_CHECKING:
    from typing import Callable, Mapping, Sequence, TypeVar

    T = TypeVar("T")

MIN_MARGIN = 0.5  # seconds kept back from the budget to report a failure
MAX_MARGIN = 5.0
MARGIN_FRACTION = 0.1


class CommandTimeout(GenericError):
    """An external command did not finish within what was left of the action's budget."""


class WaitTimeout(GenericError):
    """A condition the action waits for did not come true within its budget."""


class Budget:
    """The time left for one action, from ``OCF_RESKEY_CRM_meta_timeout`` (milliseconds)."""

    def __init__(
        self,
        total: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.total = total
        self.margin = min(MAX_MARGIN, max(MIN_MARGIN, total * MARGIN_FRACTION))
        self._clock = clock
        self._sleep = sleep
        self._deadline = clock() + total - self.margin

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], default: float) -> Budget:
        """The budget Pacemaker set, or ``default`` seconds when run by hand."""
        raw = environ.get("OCF_RESKEY_CRM_meta_timeout", "")
        try:
            millis = int(raw)
        except ValueError:
            return cls(default)
        return cls(millis / 1000.0) if millis > 0 else cls(default)

    def remaining(self) -> float:
        """Seconds left before the margin; never negative."""
        return max(0.0, self._deadline - self._clock())

    def wait_for(
        self,
        what: str,
        check: Callable[[], T],
        interval: float = 0.1,
        limit: float | None = None,
    ) -> T:
        """Call ``check`` until it returns something true, or fail naming ``what``.

        The loop is bounded by the budget (and by ``limit`` seconds when given): there is no
        wait in this library that can outlive the operation.
        """
        started = self._clock()
        stop_at = started + min(self.remaining(), limit if limit is not None else 1e9)
        while True:
            result = check()
            if result:
                return result
            left = stop_at - self._clock()
            if left <= 0:
                waited = self._clock() - started
                raise WaitTimeout(f"Gave up waiting for {what} after {waited:.1f}s")
            self._sleep(min(interval, left))


def concurrently(*calls: Callable[[], T], at_once: bool = True) -> list[T]:
    """Run independent calls at once and return their results, in the order of the calls.

    For the cluster tools an action would otherwise run one after the other although none
    needs another's answer (a promote's cluster property and promotion score, an election's
    reads of each candidate's position): each ``crm_attribute`` run costs 20-50 ms, mostly
    its own start, so two or three of them overlap. Each call runs in its own thread (the
    first in the caller's); every call finishes, bounded by the action's budget like any
    command of a :class:`Runner`, before the first exception in the order of the calls is
    raised. ``at_once=False`` runs them one after the other, with the same results and
    errors (see :meth:`~.cluster.Cluster.concurrently` for when that is needed).
    """
    results: list = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def one(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as err:  # noqa: BLE001 - re-raised below, in the caller's thread
            errors[index] = err

    if at_once and len(calls) > 1:
        import threading  # here: subprocess, which every such call loads, imports it anyway

        threads = [threading.Thread(target=one, args=(index,)) for index in range(1, len(calls))]
        for thread in threads:
            thread.start()
        one(0)
        for thread in threads:
            thread.join()
    else:
        for index in range(len(calls)):
            one(index)
    for err in errors:
        if err is not None:
            raise err
    return results


class Result(Record):
    """What a finished command returned."""

    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def describe(self) -> str:
        """One line for an exit reason: the command, its exit code and its complaint."""
        detail = (self.stderr or self.stdout).strip().splitlines()
        tail = f": {detail[-1]}" if detail else ""
        return f"'{' '.join(self.argv)}' exited {self.rc}{tail}"


class Runner:
    """Runs commands for one action: bounded by its budget, logged, traced."""

    def __init__(self, budget: Budget, log: Logger) -> None:
        self.budget = budget
        self.log = log

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run ``argv`` and return its result, whatever its exit code.

        A missing program is :class:`NotInstalledError` (5); overrunning the budget (or the
        smaller ``timeout``) is :class:`CommandTimeout` naming the command.
        """
        import subprocess  # here: a monitor that runs no command does not pay for the module

        argv = tuple(str(a) for a in argv)
        limit = self.budget.remaining()
        if timeout is not None:
            limit = min(limit, timeout)
        if limit <= 0:
            raise CommandTimeout(f"No time left in the action's budget to run '{' '.join(argv)}'")
        started = time.monotonic()
        try:
            proc = subprocess.run(
                argv,
                input=input,
                capture_output=True,
                text=True,
                timeout=limit,
                env=dict(env) if env is not None else None,
                stdin=None if input is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise NotInstalledError(f"Program {argv[0]!r} is not installed on this host") from None
        except subprocess.TimeoutExpired:
            self.log.trace(f"{' '.join(argv)} -> timed out after {limit:.1f}s")
            raise CommandTimeout(f"'{' '.join(argv)}' did not finish within {limit:.1f}s") from None
        result = Result(argv, proc.returncode, proc.stdout, proc.stderr)
        self.log.trace(
            f"{' '.join(argv)} -> rc={result.rc} in {(time.monotonic() - started) * 1000:.0f}ms "
            f"stdout={result.stdout.strip()!r} stderr={result.stderr.strip()!r}"
        )
        if not result.ok:
            self.log.debug(result.describe())
        return result

    def spawn(self, argv: Sequence[str], niceness: int = 0) -> int:
        """Start ``argv`` detached and return its pid without waiting: in a session of its
        own, with no terminal and none of the agent's pipes (pacemaker-execd reads the
        action's output until every copy of its pipes is closed). For a helper that must
        outlive the action: it bounds its own time. ``niceness`` above 0 makes way for
        what is more urgent on the CPU (as ``nice``)."""
        import subprocess

        argv = tuple(str(a) for a in argv)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError:
            raise NotInstalledError(f"Program {argv[0]!r} is not installed on this host") from None
        if niceness:  # Popen returns once the program runs: its start-up is what is niced
            try:
                os.setpriority(os.PRIO_PROCESS, proc.pid, niceness)
            except ProcessLookupError:
                pass
        self.log.trace(f"{' '.join(argv)} -> started as pid {proc.pid}")
        return proc.pid

    def check(self, argv: Sequence[str], **kwargs) -> Result:
        """Run ``argv`` and raise :class:`GenericError` with its complaint if it fails."""
        result = self.run(argv, **kwargs)
        if not result.ok:
            raise GenericError(result.describe())
        return result
