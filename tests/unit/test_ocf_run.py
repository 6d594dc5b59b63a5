"""Time budgets from CRM_meta_timeout, bounded waits, and running real (tiny) programs."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ocf_agents.ocf.codes import GenericError, NotInstalledError, Rc
from ocf_agents.ocf.log import Logger
from ocf_agents.ocf.run import Budget, CommandTimeout, Result, Runner, WaitTimeout, concurrently


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.mark.parametrize("total, margin", [(1.0, 0.5), (20.0, 2.0), (120.0, 5.0)])
def test_the_margin_is_a_tenth_of_the_budget_within_bounds(
    total: float, margin: float, clock: FakeClock
) -> None:
    budget = Budget(total, clock, clock.sleep)
    assert budget.margin == margin
    assert budget.remaining() == total - margin


def test_remaining_time_runs_down_and_never_goes_negative(clock: FakeClock) -> None:
    budget = Budget(20.0, clock, clock.sleep)
    clock.now += 10
    assert budget.remaining() == 8.0
    clock.now += 100
    assert budget.remaining() == 0.0


@pytest.mark.parametrize(
    "environ, total",
    [
        ({"OCF_RESKEY_CRM_meta_timeout": "30000"}, 30.0),
        ({"OCF_RESKEY_CRM_meta_timeout": "0"}, 7.0),
        ({"OCF_RESKEY_CRM_meta_timeout": "soon"}, 7.0),
        ({}, 7.0),
    ],
)
def test_the_budget_comes_from_crm_meta_timeout_or_the_default(environ: dict[str, str], total: float) -> None:
    assert Budget.from_environ(environ, default=7.0).total == total


def test_wait_for_returns_the_first_true_result(clock: FakeClock) -> None:
    answers = iter([None, "", "ready"])
    budget = Budget(20.0, clock, clock.sleep)
    assert budget.wait_for("the server", lambda: next(answers), interval=0.5) == "ready"
    assert clock.sleeps == [0.5, 0.5]


def test_wait_for_gives_up_at_the_budget_naming_what_it_waited_for(clock: FakeClock) -> None:
    budget = Budget(20.0, clock, clock.sleep)  # 18s after the margin
    checks = []
    with pytest.raises(WaitTimeout, match="Gave up waiting for the server after 18.0s") as caught:
        budget.wait_for("the server", lambda: checks.append(clock.now), interval=1.0)
    assert caught.value.rc == Rc.ERR_GENERIC
    assert len(checks) == 19  # at 0, 1, ... 18 seconds: bounded, and no sleep past the end
    assert sum(clock.sleeps) == 18.0


def test_wait_for_honours_a_limit_shorter_than_the_budget(clock: FakeClock) -> None:
    with pytest.raises(WaitTimeout, match="after 2.0s"):
        Budget(60.0, clock, clock.sleep).wait_for("sync", lambda: False, interval=0.3, limit=2.0)
    assert sum(clock.sleeps) == pytest.approx(2.0)


def test_wait_for_with_an_exhausted_budget_checks_once(clock: FakeClock) -> None:
    budget = Budget(20.0, clock, clock.sleep)
    clock.now += 60
    calls = []
    with pytest.raises(WaitTimeout):
        budget.wait_for("anything", lambda: calls.append(1))
    assert (calls, clock.sleeps) == ([1], [])


@pytest.fixture
def runner() -> Runner:
    return Runner(Budget(30.0), Logger({}, "test"))


def test_a_command_returns_its_output_and_exit_code(runner: Runner) -> None:
    result = runner.run(["sh", "-c", "cat; echo to-stderr >&2; exit 4"], input="from stdin\n")
    assert result == Result(("sh", "-c", "cat; echo to-stderr >&2; exit 4"), 4, "from stdin\n", "to-stderr\n")
    assert not result.ok


def test_a_command_gets_the_environment_it_is_given(runner: Runner) -> None:
    assert runner.run(["sh", "-c", "echo $ONLY"], env={"ONLY": "this"}).stdout == "this\n"


def test_a_command_does_not_inherit_the_agents_stdin(runner: Runner) -> None:
    """A command that reads stdin must not hang on (or eat) whatever the agent was given."""
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    try:
        os.write(write_end, b"not for cat\n")
        os.dup2(read_end, 0)
        assert runner.run(["cat"], timeout=10).stdout == ""
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)


def test_a_missing_program_is_not_installed_naming_it(runner: Runner) -> None:
    with pytest.raises(NotInstalledError) as caught:
        runner.run(["ocfa-no-such-program", "--flag"])
    assert caught.value.rc == Rc.ERR_INSTALLED
    assert caught.value.reason == "Program 'ocfa-no-such-program' is not installed on this host"


def test_a_command_that_overruns_its_timeout_fails_naming_it(runner: Runner) -> None:
    with pytest.raises(CommandTimeout) as caught:
        runner.run(["sleep", "30"], timeout=0.2)
    assert caught.value.rc == Rc.ERR_GENERIC
    assert caught.value.reason == "'sleep 30' did not finish within 0.2s"


def test_a_command_is_bounded_by_what_is_left_of_the_budget() -> None:
    budget = Budget(1.0)  # 0.5s left after the margin
    with pytest.raises(CommandTimeout, match=r"'sleep 30' did not finish within 0\.\ds"):
        Runner(budget, Logger({}, "test")).run(["sleep", "30"])


def test_no_command_starts_once_the_budget_is_spent(clock: FakeClock) -> None:
    budget = Budget(1.0, clock, clock.sleep)
    clock.now += 5
    with pytest.raises(CommandTimeout, match="No time left in the action's budget to run 'true'"):
        Runner(budget, Logger({}, "test")).run(["true"])


def test_check_raises_with_the_commands_complaint(runner: Runner) -> None:
    with pytest.raises(GenericError) as caught:
        runner.check(["sh", "-c", "echo first >&2; echo last complaint >&2; exit 2"])
    assert caught.value.reason == (
        "'sh -c echo first >&2; echo last complaint >&2; exit 2' exited 2: last complaint"
    )


def test_check_returns_the_result_of_a_success(runner: Runner) -> None:
    assert runner.check(["echo", "fine"]).stdout == "fine\n"


def test_a_failure_is_logged_for_debugging(tmp_path: Path) -> None:
    logfile = tmp_path / "ha.log"
    log = Logger({"HA_LOGFILE": str(logfile), "HA_debug": "1"}, "test")
    Runner(Budget(30.0), log).run(["false"])
    assert logfile.read_text().rstrip().endswith("DEBUG: 'false' exited 1")


# Each command marks that it started, then waits (bounded) for the other's mark: run one after
# the other, the first would give up and fail; run at once, both succeed.
MEET = 'touch "$1"; for _ in $(seq 100); do [ -e "$2" ] && exit 0; sleep 0.1; done; exit 1'


def test_concurrent_calls_run_at_once_and_return_in_order(runner: Runner, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first, second = concurrently(lambda: runner.run(["sh", "-c", MEET, "sh", str(a), str(b)]),
                                 lambda: runner.run(["sh", "-c", MEET, "sh", str(b), str(a)]))
    assert (first.rc, second.rc) == (0, 0)
    assert first.argv[3:] == ("sh", str(a), str(b))  # results in the order of the calls


def test_concurrent_calls_all_finish_before_the_first_failure_is_raised(runner: Runner, tmp_path: Path) -> None:
    done = tmp_path / "done"
    with pytest.raises(NotInstalledError, match="no-such-program"):
        concurrently(lambda: runner.run(["touch", str(done)]),
                     lambda: runner.run(["no-such-program"]),
                     lambda: runner.check(["false"]))
    assert done.exists()


def test_calls_not_at_once_run_in_turn_with_the_same_errors() -> None:
    events: list[str] = []

    def call(name: str, fail: bool = False):
        def run() -> str:
            events.extend([f"{name} starts", f"{name} ends"])
            if fail:
                raise ValueError(name)
            return name
        return run

    assert concurrently(call("a"), call("b"), at_once=False) == ["a", "b"]
    with pytest.raises(ValueError, match="b"):
        concurrently(call("a"), call("b", fail=True), call("c", fail=True), at_once=False)
    assert events == ["a starts", "a ends", "b starts", "b ends"] * 2 + ["c starts", "c ends"]


def test_no_calls_no_results() -> None:
    assert concurrently() == []


def test_a_spawned_helper_runs_in_a_session_of_its_own_without_the_agents_output(runner: Runner) -> None:
    """pacemaker-execd waits for the end of the action's output: a helper left holding it
    would make the action last as long as the helper."""
    read_end, write_end = os.pipe()
    saved = os.dup(1)
    try:
        os.dup2(write_end, 1)
        pid = runner.spawn(["sh", "-c", "echo held; sleep 0.2"])
        os.dup2(saved, 1)
        os.close(write_end)
        assert os.getsid(pid) == pid
        assert os.read(read_end, 100) == b""  # end of file: nobody else holds the write end
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        os.dup2(saved, 1)
        for fd in (saved, read_end):
            os.close(fd)


def test_a_helper_spawned_nicer_makes_way_for_the_actions(runner: Runner) -> None:
    pid = runner.spawn(["sleep", "5"], niceness=10)
    try:
        assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0) + 10
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
