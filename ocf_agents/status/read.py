"""Every outside call of ``ocf-agents status``, in one place: Pacemaker's tools (argv lists,
each bounded by a timeout) and this node's database servers (their control sockets and the
kernel's TCP table, read as the agent's monitor reads them).

What the cluster cannot tell at all (crm_mon or the CIB unreadable) raises StatusError; what
one node's value cannot be read for becomes a problem in the result, so that the rest is
still shown.
"""

from __future__ import annotations

import os
import subprocess

from ocf_agents.agents.ovndb.files import NodeFiles
from ocf_agents.agents.ovndb.position import attribute_of
from ocf_agents.agents.ovndb.state import Server
from ocf_agents.ocf.cluster import ATTRD_NO_SUCH_ATTRIBUTE, RC_NO_SUCH_ATTRIBUTE
from ocf_agents.ocf.run import concurrently
from ocf_agents.ovs import ovsdb
from ocf_agents.ovs.unixctl import UnixctlError

from . import model
from .model import (BACKUP, Inputs, LocalDb, Params, StatusError, local_db, parse_attrd, parse_crm_mon, parse_params,
                    parse_score)

TIMEOUT = 10.0  # seconds for one tool: a busy cluster's crm_mon answers within a second or two


def run(argv: list[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """One tool's answer; a tool that is missing or does not answer in time is a StatusError
    naming it (the command cannot go on without what it asked)."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                              env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError:
        raise StatusError(f"{argv[0]} is not installed here: run this on a cluster node") from None
    except subprocess.TimeoutExpired:
        raise StatusError(f"'{' '.join(argv)}' did not answer within {timeout:g} s") from None


def complaint(result: subprocess.CompletedProcess[str]) -> str:
    """The tool, its exit status and what it said about its failure."""
    said = model.complaint(result.stdout, result.stderr)
    return f"'{' '.join(result.args)}' exited {result.returncode}" + (f": {said}" if said else "")


def required(argv: list[str]) -> str:
    """The output of a tool the status cannot do without (crm_mon, cibadmin)."""
    result = run(argv)
    if result.returncode != 0:
        raise StatusError(f"cannot read the cluster: {complaint(result)}")
    return result.stdout


def local_node() -> str:
    """This node's name in the cluster (``crm_node -n``), else the kernel's host name."""
    result = run(["crm_node", "-n"])
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else os.uname().nodename


def published(resource: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """Every node's published position, and a problem when attrd cannot be asked."""
    result = run(["attrd_updater", "-Q", "-A", "-n", attribute_of(resource)])
    if result.returncode in ATTRD_NO_SUCH_ATTRIBUTE:
        return {}, ()
    if result.returncode != 0:
        return {}, (f"positions: {complaint(result)}",)
    return parse_attrd(result.stdout), ()


def score(resource: str, node: str) -> tuple[int | None, str | None]:
    """``node``'s promotion score (None: it has none), or the problem reading it."""
    result = run(["crm_attribute", f"--promotion={resource}", "-N", node, "-G", "-q"])
    if result.returncode == RC_NO_SUCH_ATTRIBUTE:
        return None, None
    if result.returncode != 0:
        return None, f"{node}'s promotion score: {complaint(result)}"
    return parse_score(result.stdout), None


def local_dbs(params: Params) -> tuple[LocalDb, ...]:
    """This node's two servers as the agent's monitor reads them (state.read_state, without
    its wait for a busy server): the pidfile, the control socket's
    ``ovsdb-server/sync-status``, and for a backup whether its replication connection is
    established (the kernel's TCP table, read once for both)."""
    seen = []
    for db in ovsdb.databases(params.rundir):
        pid = ovsdb.live_pid(db.pidfile, ovsdb.SERVER_PROGRAM)
        try:
            status = ovsdb.sync_status(db) if pid is not None else None
        except (UnixctlError, ovsdb.OvsdbError):
            status = None
        seen.append((db, pid, status))
    connections = ovsdb.replication_connections(
        [(pid or 0, status.sync_from if status and status.role == BACKUP else None) for _, pid, status in seen])
    return tuple(local_db(Server(db, pid, status, connection))
                 for (db, pid, status), connection in zip(seen, connections))


def read_all(resource: str) -> Inputs:
    """Everything ``ocf-agents status`` shows, read at once where the reads are independent."""
    instances = parse_crm_mon(required(["crm_mon", "-1", "--output-as=xml"]), resource)
    params = parse_params(required(["cibadmin", "--query", "--scope", "resources"]), resource)
    me, (positions, problems), *scores = concurrently(
        local_node, lambda: published(resource), *[lambda node=i.node: score(resource, node) for i in instances])
    return Inputs(resource, params, instances, {i.node: value for i, (value, _) in zip(instances, scores)},
                  positions, me, local_dbs(params), problems + tuple(problem for _, problem in scores if problem),
                  NodeFiles(params.rundir, params.dbdir).position.read())
