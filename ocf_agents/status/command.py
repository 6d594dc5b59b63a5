"""``ocf-agents status``: the command line. Reads (read.py), concludes (model.py), prints
(render.py); a cluster that cannot be read is one line on stderr, never a traceback.

Exit status: 0 everything was read; 1 the cluster cannot be read (nothing shown); 2 a usage
error; 3 shown, but some node's value could not be read (listed under the table, and in
``problems`` of the JSON).
"""

from __future__ import annotations

import argparse
import sys

from ocf_agents.setup.build import OvndbOptions

from . import read, render
from .model import StatusError, conclude

PARTIAL = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    status = subparsers.add_parser(
        "status", help="the ovndb-servers cluster as the agent sees it (run on any cluster node)",
        description="Per node: its role, promotion score, the address its databases listen on "
                    "for replication, the barrier it holds and its published data position, how "
                    "far behind the promoted node's it is and whether it may be promoted (and "
                    "why not); on this node, each database's state and replication source. "
                    "Exit status 0, 1 when the cluster cannot be read, 3 when some node's values "
                    "could not be read (the rest is shown).")
    status.add_argument("--resource", default=OvndbOptions.name, metavar="ID",
                        help="the ovndb-servers primitive's id (default: "
                             f"{OvndbOptions.name}, as ocf-agents setup ovndb names it)")
    status.add_argument("--json", action="store_true", help="JSON for monitoring systems")
    status.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        status = conclude(read.read_all(args.resource))
    except StatusError as err:
        print(f"ocf-agents status: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ocf-agents status: interrupted", file=sys.stderr)
        return 130
    print(render.as_json(status) if args.json else render.text(status))
    return PARTIAL if status.problems else 0
