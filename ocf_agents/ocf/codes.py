"""OCF exit codes, under their OCF 1.0 names and their Pacemaker 2.1 names, and exit reasons.

What Pacemaker does with each code decides which one an agent must return:

====  =======================  ================================================
 rc   name                     Pacemaker's reaction
====  =======================  ================================================
 0    OCF_SUCCESS
 1    OCF_ERR_GENERIC          soft error: recover (restart or move)
 2    OCF_ERR_ARGS             hard error: ban the resource from this node
 3    OCF_ERR_UNIMPLEMENTED    hard error
 4    OCF_ERR_PERM             hard error
 5    OCF_ERR_INSTALLED        hard error: ban the resource from this node
 6    OCF_ERR_CONFIGURED       fatal: stop the resource everywhere
 7    OCF_NOT_RUNNING          cleanly stopped (monitor only)
 8    OCF_RUNNING_PROMOTED     running promoted (OCF 1.0: OCF_RUNNING_MASTER)
 9    OCF_FAILED_PROMOTED      failed while promoted (OCF 1.0: OCF_FAILED_MASTER)
190   OCF_DEGRADED             running, shown as degraded
191   OCF_DEGRADED_PROMOTED    promoted, shown as degraded
====  =======================  ================================================
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is imported by type checkers only (see ocf_agents/ocf/record.py)
if TYPE_CHECKING:
    from typing import Mapping, TextIO


class Rc:
    """Exit codes under their Pacemaker 2.1 names (the OCF 1.0 aliases are below).

    Plain ``int`` constants, not an ``IntEnum``: importing ``enum`` costs a few milliseconds
    of every agent call, and an exit code is only ever compared and returned.
    """

    SUCCESS = 0
    ERR_GENERIC = 1
    ERR_ARGS = 2
    ERR_UNIMPLEMENTED = 3
    ERR_PERM = 4
    ERR_INSTALLED = 5
    ERR_CONFIGURED = 6
    NOT_RUNNING = 7
    RUNNING_PROMOTED = 8
    FAILED_PROMOTED = 9
    DEGRADED = 190
    DEGRADED_PROMOTED = 191


OCF_SUCCESS = Rc.SUCCESS
OCF_ERR_GENERIC = Rc.ERR_GENERIC
OCF_ERR_ARGS = Rc.ERR_ARGS
OCF_ERR_UNIMPLEMENTED = Rc.ERR_UNIMPLEMENTED
OCF_ERR_PERM = Rc.ERR_PERM
OCF_ERR_INSTALLED = Rc.ERR_INSTALLED
OCF_ERR_CONFIGURED = Rc.ERR_CONFIGURED
OCF_NOT_RUNNING = Rc.NOT_RUNNING
OCF_RUNNING_PROMOTED = Rc.RUNNING_PROMOTED
OCF_FAILED_PROMOTED = Rc.FAILED_PROMOTED
OCF_DEGRADED = Rc.DEGRADED
OCF_DEGRADED_PROMOTED = Rc.DEGRADED_PROMOTED
# OCF 1.0 / resource-agents names of the same codes.
OCF_RUNNING_MASTER = Rc.RUNNING_PROMOTED
OCF_FAILED_MASTER = Rc.FAILED_PROMOTED
OCF_DEGRADED_MASTER = Rc.DEGRADED_PROMOTED

DEFAULT_EXIT_REASON_PREFIX = "ocf-exit-reason:"


def exit_reason(
    message: str, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> None:
    """Print an exit reason the way Pacemaker's executor picks it up from stderr.

    Pacemaker keeps the last line that starts with the prefix and shows it in `crm_mon` and
    `pcs status`, so it must be one line: newlines are folded into spaces. The prefix comes
    from ``environ`` (the invocation's environment; ``os.environ`` when not given).
    """
    environ = os.environ if environ is None else environ
    prefix = environ.get("OCF_EXIT_REASON_PREFIX") or DEFAULT_EXIT_REASON_PREFIX
    line = " ".join(message.split())
    print(f"{prefix}{line}", file=stream or sys.stderr, flush=True)


class OCFError(Exception):
    """A failure that ends an action with a given exit code and exit reason."""

    rc: int = Rc.ERR_GENERIC

    def __init__(self, reason: str, rc: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if rc is not None:
            self.rc = rc


class GenericError(OCFError):
    """Something failed here that a restart or a move may cure (1)."""

    rc = Rc.ERR_GENERIC


class ArgsError(OCFError):
    """The arguments cannot work on this host (2)."""

    rc = Rc.ERR_ARGS


class PermissionDenied(OCFError):
    """The action needs privileges the caller does not have (4)."""

    rc = Rc.ERR_PERM


class NotInstalledError(OCFError):
    """A program or file this host must have is missing (5)."""

    rc = Rc.ERR_INSTALLED


class ConfigurationError(OCFError):
    """The configuration is wrong on every host (6)."""

    rc = Rc.ERR_CONFIGURED


class FailedPromotedError(OCFError):
    """A promoted instance is broken and must be demoted and restarted (9)."""

    rc = Rc.FAILED_PROMOTED


class ParameterError(ConfigurationError):
    """One parameter's value is wrong everywhere; the reason names it and quotes the value."""

    def __init__(self, name: str, value: object, why: str) -> None:
        super().__init__(f"Parameter {name}={str(value)!r} is invalid: {why}")
        self.name = name
        self.value = value
        self.why = why
