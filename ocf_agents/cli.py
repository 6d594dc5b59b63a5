"""The ``ocf-agents`` command: one sub-command per module that provides ``register``.

Each sub-command lives with the code it drives (``ocf_agents/setup``, ``ocf_agents/lab``), and
registers its own parser here, so that this file stays a table of contents.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Sequence

# module -> it defines register(subparsers), adding its sub-commands with a `func` default.
SUBCOMMAND_MODULES = (
    "ocf_agents.setup.command",
    "ocf_agents.lab.command",
    "ocf_agents.status.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocf-agents",
        description="Pacemaker OCF agents for Open vSwitch and OVN: cluster setup, status and the lab.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise
            continue  # that part of the suite is not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rc = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit: what is still buffered meets the closed pipe
        return rc
    except BrokenPipeError:
        # The reader went away (`ocf-agents status | head -3`): end quietly with the status
        # of a command killed by SIGPIPE, as other tools do, rather than a traceback; the
        # interpreter's last flush of stdout goes to /dev/null instead of failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
