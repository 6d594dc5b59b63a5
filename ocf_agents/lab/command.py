"""``ocf-agents lab ...`` and ``ocf-agents drill``: the command line of the lab."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from . import agents, chassis, membership
from . import lab as lab_mod
from .drill.resources import DOCUMENTED, PROFILES
from .idl_writer import IDL, KINDS, ClientSettings
from .layout import MAX_NODES, REPORT_DIR, LabError


def _up(args: argparse.Namespace) -> int:
    lab_mod.up(args.nodes, args.provider, args.agent, chassis_count=args.chassis)
    return 0


def _down(args: argparse.Namespace) -> int:
    lab_mod.down()
    return 0


def _status(args: argparse.Namespace) -> int:
    lab_mod.status(lab_mod.Lab.load())
    return 0


def _exec(args: argparse.Namespace) -> int:
    lab = lab_mod.Lab.load()
    return lab_mod.exec_in(lab.node(args.node), args.argv)


def _node_verb(verb: str, done: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        lab = lab_mod.Lab.load()
        getattr(lab, verb)(*[lab.node(name) for name in args.node])
        print(f"{', '.join(args.node)}: {done}")
        return 0
    return handler


def _add_node(args: argparse.Namespace) -> int:
    node = membership.add_node(lab_mod.Lab.load())
    print(f"{node.name}: added to the cluster ({node.address}), started and online")
    return 0


def _remove_node(args: argparse.Namespace) -> int:
    lab = lab_mod.Lab.load()
    membership.remove_node(lab, lab.node(args.node))
    print(f"{args.node}: stopped and removed from the cluster")
    return 0


def _drill(args: argparse.Namespace) -> int:
    from .drill import run_drill  # the drill needs the agents; the lab alone does not
    try:
        client = ClientSettings(kind=args.long_lived, probe_ms=args.client_probe_ms,
                                remotes=args.client_remotes, timeout_s=args.client_timeout,
                                log_path=args.client_log, library=args.client_library)
    except ValueError as err:
        raise LabError(str(err)) from None
    return run_drill(lab_mod.Lab.load(), only=args.only, ports=args.ports,
                     client_rto_max_ms=args.client_rto_max_ms, client=client,
                     profile=args.profile, report_dir=args.report_dir,
                     server_probe_ms=args.server_probe_ms)


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A LabError is one line on stderr and exit status 1, Ctrl-C is 130; no traceback."""
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except LabError as err:
            print(f"ocf-agents {args.command}: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"ocf-agents {args.command}: interrupted", file=sys.stderr)
            return 130
    return wrapper


def positive(text: str) -> int:
    """A whole number above 0: a count or a time in milliseconds."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return value


# verb: (Lab's method, what is printed, help, whether it takes several nodes at once)
NODE_VERBS = {
    "crash": ("crash", "crashed (INIT killed, network namespace recreated)",
              "SIGKILL the node's INIT (its whole PID namespace), recreate its network", False),
    "stop": ("stop", "left the cluster and powered off",
             "stop Pacemaker then Corosync as pcs cluster stop does, then power the node off", False),
    "start": ("start", "started and online",
              "boot crashed or stopped nodes, all before waiting until they are online", True),
    "isolate": ("isolate", "cut off from the lab network", "take the node's links down", False),
    "heal": ("heal", "reconnected to the lab network", "bring the node's links up again", False),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    lab = subparsers.add_parser(
        "lab", help="a real Corosync+Pacemaker cluster of 2-3 nodes in namespaces",
        description="A real Corosync+Pacemaker cluster on this machine, each node in its own "
                    "network, mount, UTS and PID namespaces. Needs root. Fencing is on: "
                    "a lab fence device powers a fenced node off (as lab crash does).")
    verbs = lab.add_subparsers(dest="verb", required=True)

    up = verbs.add_parser("up", help="create and boot the lab")
    up.add_argument("--nodes", type=int, default=MAX_NODES, help="2 or 3 (default 3)")
    up.add_argument("--provider", default=lab_mod.LAB_PROVIDER,
                    help="OCF provider the nodes run our agents from (default: "
                         f"{lab_mod.LAB_PROVIDER}, the checkout's agents linked for the lab)")
    up.add_argument("--agent", choices=agents.AGENTS, default=agents.OURS,
                    help="what runs the database role the drill sets up: ours (default), "
                         "ovn (OVN's ovndb-servers.ocf, as ocf:ovnlab:ovndb-servers) or "
                         "stateful (ocf:pacemaker:Stateful, the floor of a fail-over)")
    up.add_argument("--chassis", type=int, default=chassis.DEFAULT_CHASSIS,
                    help="hypervisors running ovn-controller against the southbound VIP, "
                         f"0 to {chassis.MAX_CHASSIS} (default {chassis.DEFAULT_CHASSIS})")
    up.set_defaults(func=_guarded(_up))
    verbs.add_parser("down", help="remove everything the lab made").set_defaults(
        func=_guarded(_down))
    verbs.add_parser("status", help="nodes and crm_mon").set_defaults(func=_guarded(_status))
    ex = verbs.add_parser("exec", help="run a command inside a node")
    ex.add_argument("node")
    ex.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD...")
    ex.set_defaults(func=_guarded(_exec))
    for name, (verb, done, help_text, several) in NODE_VERBS.items():
        sub = verbs.add_parser(name, help=help_text)
        sub.add_argument("node", nargs="+" if several else 1, metavar="NODE")
        sub.set_defaults(func=_guarded(_node_verb(verb, done)))
    verbs.add_parser(
        "add-node", help="add the next node to the cluster, as pcs cluster node add --start does",
    ).set_defaults(func=_guarded(_add_node))
    remove = verbs.add_parser(
        "remove-node", help="stop the last node and remove it from the cluster, as pcs cluster "
                            "node remove does")
    remove.add_argument("node", metavar="NODE")
    remove.set_defaults(func=_guarded(_remove_node))

    drill = subparsers.add_parser(
        "drill", help="fail-over scenarios on a lab that is up, with a summary",
        description="Runs the fail-over scenarios on the lab (ocf-agents lab up first).")
    drill.add_argument("--only", action="append", metavar="STEP",
                       help="run only this step (repeatable; bring-up always runs)")
    drill.add_argument("--ports", type=positive, default=0, metavar="N",
                       help="load N logical switch ports through the VIP at the bring-up, so "
                            "that the steps run on a database of a real deployment's size")
    drill.add_argument("--long-lived", choices=list(KINDS), default=IDL,
                       help="the long-lived client: idl (default: the bare OVS IDL, as "
                            "ovn-northd and ovn-controller use it) or ovsdbapp (OpenStack's OVN "
                            "driver, its retries over the IDL; Debian 12's 2.1.0 needs "
                            "--server-probe-ms 60000 to recover, docs/guide.md)")
    drill.add_argument("--client-timeout", type=positive, metavar="S",
                       help="ovsdbapp's Connection timeout, the longest a write may take "
                            "(default: Neutron's ovsdb_timeout, 180 s)")
    drill.add_argument("--client-log", metavar="PATH",
                       help="write ovsdbapp's and the OVS library's debug log there (with "
                            "wall-clock and monotonic times): where a fail-over's seconds go")
    drill.add_argument("--client-library", metavar="DIR",
                       help="a directory the long-lived client searches before Debian's "
                            "packages: another ovsdbapp release, unpacked there with pip "
                            "install --no-deps --target DIR ovsdbapp==VERSION")
    drill.add_argument("--server-probe-ms", type=positive, metavar="MS",
                       help="the database servers' inactivity probe of their clients (the "
                            "agent's inactive_probe_interval, default 5000 ms): how long a "
                            "silent client, such as ovsdbapp sleeping between retries, keeps "
                            "its session")
    drill.add_argument("--client-probe-ms", type=positive, metavar="MS",
                       help="the long-lived client's inactivity probe (default: the IDL's, 5000 "
                            "ms), to see what a client's probe setting changes in a fail-over")
    drill.add_argument("--client-rto-max-ms", type=positive, metavar="MS",
                       help="cap the clients' TCP retransmission timeout (net.ipv4.tcp_rto_max_ms "
                            "in the client namespace, Linux 6.15+), as docs/guide.md recommends")
    drill.add_argument("--client-remotes", type=positive, default=1, metavar="N",
                       help="the VIP listed N times in the long-lived client's remote: the OVSDB "
                            "library reconnects without back-off N-1 times per process "
                            "(docs/guide.md)")
    drill.add_argument("--profile", choices=tuple(PROFILES), default=DOCUMENTED,
                       help="the configuration the bring-up applies: documented (OVN's: "
                            "notifications, IPaddr2), fast (no notifications), held (no "
                            "notifications, master_ip held by the promoted instance); docs/guide.md")
    drill.add_argument("--report-dir", default=REPORT_DIR, metavar="DIR",
                       help="where the drill writes the details of its summary, every fact in "
                            "full, and a picture of each step's timeline (SVG), in files named by "
                            f"the time (default {REPORT_DIR})")
    drill.set_defaults(func=_guarded(_drill))
