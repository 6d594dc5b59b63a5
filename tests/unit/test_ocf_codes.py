"""Exit codes under both names, exit reasons, and the exceptions that carry them."""

from __future__ import annotations

import io

import pytest

from ocf_agents.ocf import codes
from ocf_agents.ocf.codes import (
    ArgsError,
    ConfigurationError,
    FailedPromotedError,
    GenericError,
    NotInstalledError,
    OCFError,
    ParameterError,
    PermissionDenied,
    Rc,
    exit_reason,
)

# (value, Pacemaker 2.1 name, OCF 1.0 / resource-agents name) for every code of the spec.
CODES = [
    (0, "OCF_SUCCESS", "OCF_SUCCESS"),
    (1, "OCF_ERR_GENERIC", "OCF_ERR_GENERIC"),
    (2, "OCF_ERR_ARGS", "OCF_ERR_ARGS"),
    (3, "OCF_ERR_UNIMPLEMENTED", "OCF_ERR_UNIMPLEMENTED"),
    (4, "OCF_ERR_PERM", "OCF_ERR_PERM"),
    (5, "OCF_ERR_INSTALLED", "OCF_ERR_INSTALLED"),
    (6, "OCF_ERR_CONFIGURED", "OCF_ERR_CONFIGURED"),
    (7, "OCF_NOT_RUNNING", "OCF_NOT_RUNNING"),
    (8, "OCF_RUNNING_PROMOTED", "OCF_RUNNING_MASTER"),
    (9, "OCF_FAILED_PROMOTED", "OCF_FAILED_MASTER"),
    (190, "OCF_DEGRADED", "OCF_DEGRADED"),
    (191, "OCF_DEGRADED_PROMOTED", "OCF_DEGRADED_MASTER"),
]


@pytest.mark.parametrize("value, name, old_name", CODES)
def test_each_code_has_its_value_under_both_names(value: int, name: str, old_name: str) -> None:
    assert getattr(codes, name) == value
    assert getattr(codes, old_name) == value
    assert getattr(Rc, name.removeprefix("OCF_")) == value


def test_rc_holds_exactly_the_codes_of_the_spec() -> None:
    codes = {name: value for name, value in vars(Rc).items() if name.isupper()}
    assert sorted(codes.values()) == [value for value, _, _ in CODES]
    assert all(type(value) is int for value in codes.values())  # plain ints: no enum to import


def test_exit_reason_uses_the_default_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCF_EXIT_REASON_PREFIX", raising=False)
    stream = io.StringIO()
    exit_reason("disk full", stream)
    assert stream.getvalue() == "ocf-exit-reason:disk full\n"


def test_exit_reason_uses_the_prefix_pacemaker_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCF_EXIT_REASON_PREFIX", "my-reason:")
    stream = io.StringIO()
    exit_reason("disk full", stream)
    assert stream.getvalue() == "my-reason:disk full\n"


def test_exit_reason_reads_the_prefix_from_the_given_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCF_EXIT_REASON_PREFIX", "process-wide:")
    stream = io.StringIO()
    exit_reason("x", stream, environ={"OCF_EXIT_REASON_PREFIX": "invocation:"})
    assert stream.getvalue() == "invocation:x\n"


def test_an_empty_prefix_falls_back_to_the_default() -> None:
    stream = io.StringIO()
    exit_reason("x", stream, environ={"OCF_EXIT_REASON_PREFIX": ""})
    assert stream.getvalue() == "ocf-exit-reason:x\n"


def test_exit_reason_is_one_line_because_pacemaker_keeps_one_line() -> None:
    stream = io.StringIO()
    exit_reason("first\n  second\tthird\n", stream, environ={})
    assert stream.getvalue() == "ocf-exit-reason:first second third\n"


def test_exit_reason_goes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    exit_reason("on stderr", environ={})
    out, err = capsys.readouterr()
    assert (out, err) == ("", "ocf-exit-reason:on stderr\n")


@pytest.mark.parametrize(
    "error, rc",
    [
        (GenericError, 1),
        (ArgsError, 2),
        (PermissionDenied, 4),
        (NotInstalledError, 5),
        (ConfigurationError, 6),
        (FailedPromotedError, 9),
    ],
)
def test_each_error_carries_its_exit_code(error: type[OCFError], rc: int) -> None:
    err = error("why")
    assert (err.rc, err.reason, str(err)) == (rc, "why", "why")


def test_an_error_can_carry_another_code() -> None:
    assert OCFError("degraded", Rc.DEGRADED).rc == 190


def test_parameter_error_names_the_parameter_and_quotes_the_value() -> None:
    err = ParameterError("port", "80 80", "it is not an integer")
    assert err.rc == Rc.ERR_CONFIGURED
    assert err.reason == "Parameter port='80 80' is invalid: it is not an integer"
    assert (err.name, err.value, err.why) == ("port", "80 80", "it is not an integer")
