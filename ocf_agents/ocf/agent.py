"""The dispatcher: from argv to one action function, with the OCF rules around it.

What it does for every agent, so that no agent has to remember:

- The action comes from argv; ``__OCF_ACTION`` (set by ocf-tester) only when argv has none.
  ``status`` is the deprecated alias of ``monitor``. An unknown action exits 3 with usage.
- ``meta-data`` and ``usage`` need nothing: no parameters, no environment, no privileges.
- Every other action first reads and checks the parameters (each parameter's declared type
  and validator), builds the agent's configuration from them once (``configure``, as
  ocf-rarun's getconfig does), then runs the agent's host checks (programs and files), then
  the action's handler, which receives that configuration.
- A handler may be named as ``"package.module:function"``: its module is imported only when
  that action runs, so that a recurring monitor never loads what only a promotion needs.
- The invalid-environment rules of resource-agents' ocf-rarun: when the configuration or the
  installation is broken, ``stop`` still succeeds and a probe still says "not running",
  because the resource cannot be running from a configuration that cannot start it, and a
  failed stop or probe makes Pacemaker fence the node. Every other action, a recurring
  monitor included, fails with the error's own code (see ``_invalid_environment`` for where
  that differs from ocf-rarun).
- Failures are :class:`~.codes.OCFError`: their exit code is returned and their reason printed
  as an exit reason. Any other exception becomes exit 1 with a reason naming it; the
  traceback is logged only when debugging (``HA_debug=1`` or ``OCF_TRACE_RA``).
"""

from __future__ import annotations

import os
import sys

from .cluster import Cluster
from .codes import OCFError, PermissionDenied, Rc, exit_reason
from .env import Environment
from .log import Logger
from .record import Record
from .run import Budget, Runner

TYPE_CHECKING = False  # typing is imported by type checkers only (see .record)
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Sequence

    from .metadata import MetaData, Value

    Handler = Callable[[Any], int]  # receives the agent's configuration (the Context by default)

DEFAULT_TIMEOUT = 20.0  # seconds, when neither Pacemaker nor the meta-data gives one


class Context(Record):
    """Everything an action function needs about this one invocation."""

    action: str
    env: Environment
    params: Mapping[str, Value]
    log: Logger
    runner: Runner
    cluster: Cluster

    @property
    def budget(self) -> Budget:
        return self.runner.budget

    @property
    def is_probe(self) -> bool:
        return self.action == "monitor" and self.env.is_probe

    def spawn_action(self, action: str, niceness: int = 0) -> int:
        """Start this agent's ``action`` detached, with this action's environment (its
        parameters, and its timeout as the new one's budget), and return its pid: work that
        must go on after this action returns, bounded by its own budget (``niceness``: see
        Runner.spawn)."""
        script = os.path.realpath(sys.argv[0])
        pid = self.runner.spawn([sys.executable, "-I", script, action], niceness)
        self.log.info(f"started pid {pid} for the {action} action")
        return pid


class Agent(Record):
    """An agent: its meta-data, one function per action, and its host checks.

    ``handlers`` maps each action to its function, or to ``"package.module:function"`` to
    import that module only when the action runs. ``configure`` turns the :class:`Context`
    into the agent's own configuration object, once per call; the handlers and ``validate``
    receive that object (without ``configure``, the Context itself). ``validate`` checks
    what may be wrong on this host only (a missing program or file) and raises
    :class:`~.codes.OCFError` (usually ``NotInstalledError``); the parameters' own validators
    have already run. ``root_actions`` need root and exit 4 without it.
    """

    metadata: MetaData
    handlers: Mapping[str, Handler | str]
    validate: Callable[[Any], None] | None = None
    root_actions: frozenset[str] = frozenset()
    configure: Callable[[Context], Any] | None = None

    # -- what the entry point calls --------------------------------------------------
    def main(self, argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
        """Run one action and return its exit code (the heartbeat script exits with it)."""
        argv = sys.argv if argv is None else argv
        environ = os.environ if environ is None else environ
        action = argv[1] if len(argv) > 1 else environ.get("__OCF_ACTION", "")
        if action == "status" and "status" not in self.handlers:
            action = "monitor"

        if action == "meta-data":
            sys.stdout.write(self.metadata.to_xml())
            return Rc.SUCCESS
        if action in ("usage", "help"):
            print(self.usage())
            return Rc.SUCCESS
        if action not in self.actions():
            print(self.usage(), file=sys.stderr)
            if not action:
                return Rc.ERR_ARGS
            exit_reason(f"Action {action!r} is not implemented by {self.metadata.name}", environ=environ)
            return Rc.ERR_UNIMPLEMENTED
        return self._run(action, Environment(environ))

    def actions(self) -> list[str]:
        return sorted(set(self.handlers) | {"meta-data", "validate-all", "usage"})

    def usage(self) -> str:
        return f"usage: {self.metadata.name} {{{'|'.join(self.actions())}}}"

    # -- the rest ----------------------------------------------------------------------
    def _declared_timeout(self, action: str) -> float:
        for declared in self.metadata.actions:
            if declared.name == action:
                return float(declared.timeout)
        return DEFAULT_TIMEOUT

    def _run(self, action: str, env: Environment) -> int:
        log = Logger(env.environ, self.metadata.name)
        log.trace(f"{action} begins")
        rc = self._run_logged(action, env, log)
        log.trace(f"{action} ends with rc={rc}")
        return rc

    def _run_logged(self, action: str, env: Environment, log: Logger) -> int:
        try:
            return self._run_checked(action, env, log)
        except OCFError as err:
            log.error(err.reason)
            exit_reason(err.reason, environ=env.environ)
            return err.rc
        except Exception as err:  # noqa: BLE001 - the one place that turns bugs into rc 1
            import traceback  # only a bug pays for it

            log.debug(traceback.format_exc())
            reason = f"Unexpected error during {action}: {type(err).__name__}: {err}"
            log.error(reason)
            exit_reason(reason, environ=env.environ)
            return Rc.ERR_GENERIC

    def _run_checked(self, action: str, env: Environment, log: Logger) -> int:
        """Check the configuration and the host, then run the action's handler."""
        runner = Runner(Budget.from_environ(env.environ, self._declared_timeout(action)), log)
        try:
            ctx = Context(action, env, self._read_parameters(env), log, runner, Cluster(runner, env))
            config = self.configure(ctx) if self.configure is not None else ctx
            if self.validate is not None:
                self.validate(config)
        except OCFError as err:
            return self._invalid_environment(action, env, log, err)
        if action in self.root_actions and os.geteuid() != 0:
            raise PermissionDenied(f"Action {action} must be run as root")
        handler = self.handler(action)
        return int(handler(config)) if handler is not None else Rc.SUCCESS

    def handler(self, action: str) -> Handler | None:
        """The action's function, importing its module now when it is named by a string."""
        handler = self.handlers.get(action)
        if not isinstance(handler, str):
            return handler
        module, _, function = handler.partition(":")
        return getattr(__import__(module, fromlist=[function]), function)

    def _read_parameters(self, env: Environment) -> dict[str, Value]:
        return {p.name: p.convert(env.raw(p.name)) for p in self.metadata.parameters}

    @staticmethod
    def _invalid_environment(action: str, env: Environment, log: Logger, err: OCFError) -> int:
        """The rules for a broken configuration or installation: stop succeeds, a probe says
        "not running", and any other action fails with the error's own code.

        For stop and a probe these are ocf-rarun's rules (its ``handle_invalid_env``). Where
        they differ from it: a recurring monitor fails with the error's code (5, 6 or 2),
        where ocf-rarun answers 1, a soft error after which Pacemaker restarts the resource
        here only for that start to fail with the same code; and a bad parameter follows the
        rules too, where ocf-rarun exits 6 for a missing required parameter even on stop.
        """
        if action == "stop":
            log.warning(f"{err.reason}; the resource cannot be running here, so stop succeeds")
            return Rc.SUCCESS
        if action == "monitor" and env.is_probe:
            log.info(f"{err.reason}; the resource cannot be running here, so the probe says stopped")
            return Rc.NOT_RUNNING
        raise err
