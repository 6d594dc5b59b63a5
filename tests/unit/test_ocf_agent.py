"""The dispatcher: which action runs, what it is given, and the OCF rules around it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from ocf_agents.ocf.agent import DEFAULT_TIMEOUT, Agent, Context
from ocf_agents.ocf.codes import ConfigurationError, FailedPromotedError, NotInstalledError, OCFError, Rc
from ocf_agents.ocf.metadata import Action, MetaData, Parameter

RECURRING = {"OCF_RESKEY_CRM_meta_interval": "10000"}
GOOD = {"OCF_RESKEY_name": "db", "OCF_RESKEY_enabled": "YES"}


def positive(value: object) -> None:
    if value < 1:  # type: ignore[operator]
        raise ValueError("it must be at least 1")


METADATA = MetaData(
    name="Dispatched",
    version="1.0",
    shortdesc="s",
    longdesc="l",
    parameters=(
        Parameter("name", "s", "l", required=True),
        Parameter("count", "s", "l", type="integer", default="3", validate=positive),
        Parameter("enabled", "s", "l", type="boolean", default="false"),
    ),
    actions=(Action("start", timeout=45), Action("monitor", timeout=30, interval=10)),
)


class Recorder:
    """Handlers that record the contexts they ran with and return a chosen code."""

    def __init__(self) -> None:
        self.seen: list[Context] = []
        self.rc = Rc.SUCCESS

    def __call__(self, ctx: Context) -> int:
        self.seen.append(ctx)
        return self.rc

    @property
    def actions(self) -> list[str]:
        return [ctx.action for ctx in self.seen]


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


def agent(
    handler: Callable[[Context], int], validate: Callable[[Context], None] | None = None, **kwargs
) -> Agent:
    handlers = {name: handler for name in ("start", "stop", "monitor", "promote", "notify")}
    return Agent(METADATA, handlers=handlers, validate=validate, **kwargs)


def fail_with(error: Exception) -> Callable[[Context], None]:
    def raiser(ctx: Context) -> None:
        raise error

    return raiser


# -- which action -------------------------------------------------------------------------
def test_the_argv_action_beats_ocf_action(handler: Recorder) -> None:
    assert agent(handler).main(["agent", "start"], GOOD | {"__OCF_ACTION": "stop"}) == 0
    assert handler.actions == ["start"]


def test_ocf_action_is_used_when_argv_has_none(handler: Recorder) -> None:
    assert agent(handler).main(["agent"], GOOD | {"__OCF_ACTION": "stop"}) == 0
    assert handler.actions == ["stop"]


def test_extra_arguments_are_ignored(handler: Recorder) -> None:
    assert agent(handler).main(["agent", "promote", "extra"], GOOD) == 0
    assert handler.actions == ["promote"]


def test_argv_defaults_to_the_command_line(handler: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["agent", "notify"])
    assert agent(handler).main(environ=GOOD) == 0
    assert handler.actions == ["notify"]


def test_status_is_the_deprecated_alias_of_monitor(handler: Recorder) -> None:
    assert agent(handler).main(["agent", "status"], GOOD | RECURRING) == 0
    assert handler.actions == ["monitor"]


def test_an_unknown_action_is_3_with_usage_and_reason(
    handler: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agent(handler).main(["agent", "migrate_to"], GOOD) == Rc.ERR_UNIMPLEMENTED
    err = capsys.readouterr().err
    assert "usage: Dispatched {meta-data|monitor|notify|promote|start|stop|usage|validate-all}" in err
    assert "ocf-exit-reason:Action 'migrate_to' is not implemented by Dispatched" in err
    assert handler.seen == []


def test_no_action_at_all_is_2_with_usage_as_ocf_rarun(
    handler: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert agent(handler).main(["agent"], GOOD) == Rc.ERR_ARGS
    assert capsys.readouterr().err.startswith("usage: Dispatched {")


@pytest.mark.parametrize("action", ["usage", "help"])
def test_usage_needs_nothing(handler: Recorder, capsys: pytest.CaptureFixture[str], action: str) -> None:
    assert agent(handler).main(["agent", action], {}) == 0
    assert capsys.readouterr().out.startswith("usage: Dispatched {")


def test_meta_data_needs_no_environment_and_no_valid_host(
    handler: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = agent(handler, validate=fail_with(NotInstalledError("nothing here")))
    assert broken.main(["agent", "meta-data"], {}) == 0
    assert capsys.readouterr().out == METADATA.to_xml()
    assert handler.seen == []


# -- what the action is given -------------------------------------------------------------
def test_parameters_arrive_converted_with_defaults(handler: Recorder) -> None:
    agent(handler).main(["agent", "start"], GOOD)
    assert handler.seen[0].params == {"name": "db", "count": 3, "enabled": True}


@pytest.mark.parametrize(
    "action, environ, total",
    [
        ("start", {"OCF_RESKEY_CRM_meta_timeout": "90000"}, 90.0),
        ("start", {}, 45.0),
        ("notify", {}, DEFAULT_TIMEOUT),
    ],
)
def test_the_budget_is_pacemakers_timeout_else_the_declared_one(
    handler: Recorder, action: str, environ: dict[str, str], total: float
) -> None:
    agent(handler).main(["agent", action], GOOD | environ)
    assert handler.seen[0].budget.total == total


@pytest.mark.parametrize(
    "action, environ, probe",
    [("monitor", {}, True), ("monitor", {"OCF_RESKEY_CRM_meta_interval": "0"}, True),
     ("monitor", RECURRING, False), ("start", {}, False)],
)
def test_the_context_knows_a_probe(
    handler: Recorder, action: str, environ: dict[str, str], probe: bool
) -> None:
    agent(handler).main(["agent", action], GOOD | environ)
    assert handler.seen[0].is_probe is probe


def test_the_handlers_code_is_returned(handler: Recorder) -> None:
    handler.rc = Rc.RUNNING_PROMOTED
    assert agent(handler).main(["agent", "monitor"], GOOD | RECURRING) == 8


def test_validate_all_without_a_handler_runs_the_checks(handler: Recorder) -> None:
    checked = []
    assert agent(handler, validate=checked.append).main(["agent", "validate-all"], GOOD) == 0
    assert [ctx.action for ctx in checked] == ["validate-all"]


# -- the agent's configuration and lazily imported handlers ----------------------------------
def test_configure_runs_once_and_its_result_goes_to_the_checks_and_the_handler(handler: Recorder) -> None:
    built: list[Context] = []
    checked: list[object] = []

    def configure(ctx: Context) -> tuple[str, str]:
        built.append(ctx)
        return ("configuration of", ctx.params["name"])

    configured = agent(handler, validate=checked.append, configure=configure)
    assert configured.main(["agent", "start"], GOOD) == 0
    assert [ctx.action for ctx in built] == ["start"]
    assert checked == handler.seen == [("configuration of", "db")]


LAZY_MODULE = "ocfa_test_lazy_handlers"


@pytest.fixture
def lazy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module of handlers on sys.path, not imported yet (and forgotten after the test)."""
    (tmp_path / f"{LAZY_MODULE}.py").write_text("SEEN = []\n\ndef start(config):\n    SEEN.append(config)\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, LAZY_MODULE, raising=False)
    yield LAZY_MODULE
    sys.modules.pop(LAZY_MODULE, None)


def test_a_handler_named_by_a_string_is_imported_only_when_its_action_runs(
    handler: Recorder, lazy_module: str
) -> None:
    lazy = Agent(METADATA, handlers={"start": f"{lazy_module}:start", "monitor": handler})
    assert lazy.actions() == ["meta-data", "monitor", "start", "usage", "validate-all"]
    assert lazy.main(["agent", "monitor"], GOOD | RECURRING) == 0
    assert lazy.main(["agent", "validate-all"], GOOD) == 0
    assert lazy_module not in sys.modules
    assert lazy.main(["agent", "start"], GOOD) == 0
    assert [ctx.action for ctx in sys.modules[lazy_module].SEEN] == ["start"]


# -- configuration and installation faults ---------------------------------------------------
BAD_PARAMETERS = [
    ({"OCF_RESKEY_enabled": "maybe"}, "Parameter enabled='maybe' is invalid: it is not a boolean"),
    ({"OCF_RESKEY_count": "three"}, "Parameter count='three' is invalid: it is not an integer"),
    ({"OCF_RESKEY_count": "0"}, "Parameter count='0' is invalid: it must be at least 1"),
    ({"OCF_RESKEY_name": ""}, "Parameter name='' is invalid: it is required and was not given"),
]


@pytest.mark.parametrize("bad, reason", BAD_PARAMETERS)
@pytest.mark.parametrize("action, environ", [("start", {}), ("validate-all", {}), ("monitor", RECURRING)])
def test_a_bad_parameter_is_6_with_a_reason_naming_it(
    handler: Recorder, capsys: pytest.CaptureFixture[str],
    action: str, environ: dict[str, str], bad: dict[str, str], reason: str,
) -> None:
    assert agent(handler).main(["agent", action], GOOD | environ | bad) == Rc.ERR_CONFIGURED
    assert f"ocf-exit-reason:{reason}" in capsys.readouterr().err
    assert handler.seen == []


@pytest.mark.parametrize("bad, reason", BAD_PARAMETERS)
def test_stop_succeeds_with_a_bad_parameter(
    handler: Recorder, capsys: pytest.CaptureFixture[str], bad: dict[str, str], reason: str
) -> None:
    assert agent(handler).main(["agent", "stop"], GOOD | bad) == Rc.SUCCESS
    err = capsys.readouterr().err
    assert reason in err and "ocf-exit-reason" not in err
    assert handler.seen == []


@pytest.mark.parametrize("interval", [{}, {"OCF_RESKEY_CRM_meta_interval": "0"}])
@pytest.mark.parametrize("bad, reason", BAD_PARAMETERS)
def test_a_probe_says_not_running_with_a_bad_parameter(
    handler: Recorder, capsys: pytest.CaptureFixture[str],
    interval: dict[str, str], bad: dict[str, str], reason: str,
) -> None:
    assert agent(handler).main(["agent", "monitor"], GOOD | interval | bad) == Rc.NOT_RUNNING
    assert "ocf-exit-reason" not in capsys.readouterr().err
    assert handler.seen == []


@pytest.mark.parametrize(
    "where, error",
    [("validate", NotInstalledError("Program 'x' is not installed")),
     ("configure", ConfigurationError("Parameters a and b contradict"))],
    ids=["host check", "configure"],
)
@pytest.mark.parametrize(
    "action, environ, rc",
    [
        ("stop", {}, 0), ("monitor", {}, 7),
        ("monitor", RECURRING, None), ("start", {}, None), ("validate-all", {}, None),
    ],
)
def test_a_missing_installation_follows_the_same_rules(
    handler: Recorder, capsys: pytest.CaptureFixture[str],
    where: str, error: OCFError, action: str, environ: dict[str, str], rc: int | None,
) -> None:
    """And so does an error of the agent's configure; None: the error's own code (5 or 6)."""
    broken = agent(handler, **{where: fail_with(error)})
    assert broken.main(["agent", action], GOOD | environ) == (error.rc if rc is None else rc)
    assert (f"ocf-exit-reason:{error.reason}" in capsys.readouterr().err) is (rc is None)
    assert handler.seen == []


# -- failures of the action itself -----------------------------------------------------------
def test_an_ocf_error_in_an_action_gives_its_code_and_reason(capsys: pytest.CaptureFixture[str]) -> None:
    failing = agent(fail_with(FailedPromotedError("the database is read-only")))
    assert failing.main(["agent", "monitor"], GOOD | RECURRING) == Rc.FAILED_PROMOTED
    assert "ocf-exit-reason:the database is read-only\n" in capsys.readouterr().err


def test_the_exit_reason_prefix_comes_from_the_invocation(capsys: pytest.CaptureFixture[str]) -> None:
    failing = agent(fail_with(FailedPromotedError("read-only")))
    failing.main(["agent", "monitor"], GOOD | RECURRING | {"OCF_EXIT_REASON_PREFIX": "why:"})
    assert "why:read-only\n" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["handler", "host check", "parameter validator"])
def test_a_bug_is_1_with_a_reason_and_no_traceback(capsys: pytest.CaptureFixture[str], where: str) -> None:
    bug = KeyError("boom")
    if where == "handler":
        buggy = agent(fail_with(bug))
    elif where == "host check":
        buggy = agent(Recorder(), validate=fail_with(bug))
    else:
        parameters = (Parameter("name", "s", "l", validate=fail_with(bug)),)
        buggy = Agent(METADATA._replace(parameters=parameters), handlers={"start": Recorder()})
    assert buggy.main(["agent", "start"], GOOD) == Rc.ERR_GENERIC
    err = capsys.readouterr().err
    assert "ocf-exit-reason:Unexpected error during start: KeyError: 'boom'\n" in err
    assert "Traceback" not in err


def test_with_ha_debug_the_traceback_of_a_bug_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    assert agent(fail_with(KeyError("boom"))).main(["agent", "start"], GOOD | {"HA_debug": "1"}) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_root_actions_need_root(
    handler: Recorder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    guarded = agent(handler, root_actions=frozenset({"start"}))
    assert guarded.main(["agent", "start"], GOOD) == Rc.ERR_PERM
    assert "ocf-exit-reason:Action start must be run as root" in capsys.readouterr().err
    assert guarded.main(["agent", "monitor"], GOOD | RECURRING) == 0
    assert handler.actions == ["monitor"]
