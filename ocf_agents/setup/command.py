"""``ocf-agents setup ovndb|port``: print, or apply through pcs, the cluster configuration.

Exit status: 0 done; 1 a command failed (nothing was changed); 2 bad input, found before
anything ran.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import subprocess
import sys
from typing import Callable

from . import render_crm, render_pcs
from .apply import ApplyError, apply
from .build import OvndbOptions, PortOptions, ovndb_setup, port_setup
from .catalogue import DEFAULT_PROVIDER
from .checks import SetupError
from .model import Setup

PROG = "ocf-agents setup"
ASSUMED_PCS = "0.11"  # when printing on a host without pcs


def register(subparsers: argparse._SubParsersAction) -> None:
    setup = subparsers.add_parser(
        "setup",
        help="cluster configuration for the agents (pcs or crmsh commands)",
        description="Print the pcs (or crmsh) commands that configure the agents in a "
        "Pacemaker cluster, or apply them with pcs (--apply), live or on a CIB file (--cib).",
    )
    kinds = setup.add_subparsers(dest="setup_kind", required=True)

    ovndb = kinds.add_parser(
        "ovndb",
        help="the promotable ovndb-servers resource and its virtual IP",
        description="A promotable clone of ovndb-servers (one monitor per role; notify=false with this "
        "project's agent, true with OVN's), "
        "an IPaddr2 virtual IP on --master-ip that is started after the promotion and runs "
        "where the promoted instance runs (or no VIP with --load-balancer).",
    )
    ovndb.add_argument("--master-ip", required=True, metavar="IP",
                       help="the address clients and backups use: the VIP (IPv4 or IPv6)")
    ovndb.add_argument("--name", metavar="ID", help="the primitive's id (default ovndb_servers)")
    ovndb.add_argument("--clone-name", metavar="ID", help="the promotable clone's id (default NAME-clone)")
    ovndb.add_argument("--vip-name", metavar="ID", help="the virtual IP's id (default NAME-vip)")
    ovndb.add_argument("--vip-netmask", metavar="PREFIX", help="CIDR prefix length of the VIP "
                       "(default: IPaddr2 finds it from the routing table)")
    ovndb.add_argument("--vip-nic", metavar="IFACE", help="interface for the VIP (default: IPaddr2 chooses)")
    ovndb.add_argument("--vip-monitor-interval", metavar="SECONDS", help="default 10")
    ovndb.add_argument("--load-balancer", action="store_true",
                       help="no VIP: a load balancer in front of the nodes owns --master-ip; "
                       "sets listen_on_master_ip_only=no")
    ovndb.add_argument("--ssl", action="store_true", help="nb_master_protocol=ssl and sb_master_protocol=ssl")
    for db in ("nb", "sb"):
        for kind in ("privkey", "cert", "cacert"):
            ovndb.add_argument(f"--{db}-{kind}", metavar="FILE", help=f"ovn_{db}_db_{kind} (with --ssl)")
    ovndb.add_argument("--manage-northd", action="store_true", help="run ovn-northd on the promoted node")
    ovndb.add_argument("--held-address", action="store_true",
                       help="the promoted instance holds master_ip itself on --vip-nic with --vip-netmask "
                            "(hold_master_ip=yes): no IPaddr2 resource, no constraints; a switchover is "
                            "demote + promote")
    ovndb.add_argument("--notify", choices=("yes", "no"),
                       help="the clone's notifications (default: no with this project's agent, a "
                            "switchover three rounds of actions shorter; yes with --provider ovn, which "
                            "needs them; yes: OVN's documented configuration)")
    ovndb.add_argument("--inactive-probe-interval", metavar="MS",
                       help="inactivity probe of clients' connections (agent default 5000)")
    ovndb.add_argument("--inactive-probe-interval-to-master", metavar="MS",
                       help="backups' probe of the promoted node (agent default 60000)")
    ovndb.add_argument("--monitor-interval", metavar="SECONDS", help="unpromoted monitor (default 10)")
    ovndb.add_argument("--promoted-monitor-interval", metavar="SECONDS", help="promoted monitor (default 15)")
    add_common(ovndb, "ovndb-servers", "ovn (OVN's own agent)")
    ovndb.set_defaults(func=lambda args: run(args, lambda: ovndb_setup(options(OvndbOptions, args))))

    port = kinds.add_parser(
        "port",
        help="an OVSPort and its addresses in one group",
        description="OVSPort plus IPaddr2 (and an IPv6 IPaddr2 with --ip6) on its interface, in "
        "one group, so that the port's MAC address and the IP addresses move together.",
    )
    port.add_argument("--bridge", required=True, metavar="BRIDGE", help="OVS bridge of the port")
    port.add_argument("--interface", required=True, metavar="IFACE", help="port and interface name")
    port.add_argument("--ip", required=True, metavar="IPV4", help="IPv4 address on the port")
    port.add_argument("--netmask", metavar="PREFIX", help="prefix length of --ip (default 24)")
    port.add_argument("--ip6", metavar="IPV6", help="an IPv6 address on the port as well")
    port.add_argument("--netmask6", metavar="PREFIX", help="prefix length of --ip6 (default 64)")
    port.add_argument("--mac", help="the port's MAC address (default: the agent derives a stable one)")
    port.add_argument("--name", metavar="ID", help="the OVSPort resource's id (default IFACE-port)")
    port.add_argument("--group-name", metavar="ID", help="the group's id (default NAME-group)")
    port.add_argument("--with-promoted", metavar="CLONE",
                      help="keep the group where this promotable clone is promoted (e.g. ovndb_servers-clone)")
    port.add_argument("--monitor-interval", metavar="SECONDS", help="of every member (default 10)")
    add_common(port, "OVSPort", None)
    port.set_defaults(func=lambda args: run(args, lambda: port_setup(options(PortOptions, args))))


def add_common(parser: argparse.ArgumentParser, agent: str, other_provider: str | None) -> None:
    also = f"; {other_provider}" if other_provider else ""
    parser.add_argument("--provider", metavar="NAME",
                        help=f"OCF provider of {agent} (default {DEFAULT_PROVIDER}, where make install puts it{also})")
    parser.add_argument("--param", dest="params", action="append", metavar="KEY=VALUE",
                        help=f"any other {agent} parameter (repeatable)")
    parser.add_argument("--format", choices=("pcs", "crm"), default="pcs", help="commands for pcs or crmsh")
    parser.add_argument("--pcs-version", metavar="VERSION",
                        help="pcs syntax to write (0.9, 0.10, 0.11...; default: pcs --version)")
    parser.add_argument("--cib", metavar="FILE", help="work on this CIB file instead of the live cluster")
    parser.add_argument("--apply", action="store_true",
                        help="run the pcs commands (what exists already is left as it is)")
    parser.add_argument("--force", action="store_true",
                        help="let pcs create resources whose agent is not installed on this host")


def options(cls: type, args: argparse.Namespace):
    """The options dataclass from the arguments given (the dataclass holds the defaults)."""
    given = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace, build: Callable[[], Setup]) -> int:
    try:
        setup = build()
        if args.format == "crm":
            if args.apply:
                raise SetupError("--apply runs pcs: use it with --format pcs (crm output is for printing)")
            print_notes(setup.notes)
            for argv in render_crm.render(setup):
                print(shlex.join(render_crm.on_cib_file(argv, args.cib) if args.cib else argv))
            return 0
        steps = render_pcs.render(setup, pcs_version(args.pcs_version), force=args.force)
        if args.apply:
            if args.cib is not None and not os.path.isfile(args.cib):
                raise SetupError(f"--cib {args.cib!r} is not a file (make an empty one: cibadmin --empty > FILE)")
            print_notes(setup.notes)
            apply(steps, args.cib, sys.stdout)
        else:
            print_notes(setup.notes)
            for step in steps:
                print(shlex.join(render_pcs.on_cib_file(step.argv, args.cib) if args.cib else step.argv))
        return 0
    except SetupError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except ApplyError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1


def print_notes(notes: tuple[str, ...]) -> None:
    """The setup's notes as shell comments: the printed commands stay pasteable."""
    import textwrap

    for note in notes:
        for line in textwrap.wrap(note, 94):
            print(f"# {line}")


def pcs_version(given: str | None) -> tuple[int, int, int]:
    """--pcs-version, else what the installed pcs says, else the current syntax (with a note)."""
    if given is not None:
        return render_pcs.parse_version(given)
    try:
        result = subprocess.run(["pcs", "--version"], capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        print(f"{PROG}: pcs is not installed: writing pcs {ASSUMED_PCS} syntax (see --pcs-version)",
              file=sys.stderr)
        return render_pcs.parse_version(ASSUMED_PCS)
    if result.returncode != 0:
        raise SetupError(f"pcs --version failed ({result.stderr.strip()}): give --pcs-version")
    return render_pcs.parse_version(result.stdout)
