"""Talking to the cluster: promotion scores, node attributes and cluster properties.

Scores, node attributes and cluster properties go through ``crm_attribute`` (``crm_master``
before Pacemaker 2.1; the node name through ``crm_node``), so they work the same on a live
node, under ``crm_resource --force-*`` and against a CIB file (``CIB_file``). Private node
attributes go through ``attrd_updater`` (they live in the attribute daemon only). When no
cluster answers, these helpers raise :class:`ClusterUnreachable` instead of pretending: an
agent that believes it set a promotion score it never set leaves Pacemaker promoting nobody.
"""

from __future__ import annotations

import os

from .codes import GenericError, NotInstalledError
from .env import Environment
from .run import Result, Runner, concurrently

TYPE_CHECKING = False  # typing is imported by type checkers only (see .record)
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    T = TypeVar("T")

# crm_attribute's exit code for "no such attribute" (CRM_EX_NOSUCH: crm_resource's for "no such
# resource" too).
RC_NO_SUCH_ATTRIBUTE = 105
# attrd_updater's exit codes for "no such attribute": Pacemaker 2.1 answers CRM_EX_CONFIG (78),
# later versions the same code as crm_attribute.
ATTRD_NO_SUCH_ATTRIBUTE = (78, RC_NO_SUCH_ATTRIBUTE)
# crm_attribute learnt --promotion with this feature set (Pacemaker 2.1.0); before it, the
# deprecated crm_master wrapper is the way (as ocf_promotion_score decides).
PROMOTION_FEATURE_SET = (3, 10, 0)


class ClusterUnreachable(GenericError):
    """No cluster answered a query or an update the action depends on."""


def _offline() -> bool:
    """The cluster tools work on a CIB file (``CIB_file`` in the environment they inherit)."""
    return bool(os.environ.get("CIB_file"))


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return ()


def _set_option(set_id: str | None) -> list[str]:
    return ["-s", set_id] if set_id else []


def parse_locations(text: str) -> dict[str, str]:
    """``crm_resource --locate``'s lines (``resource R is running on: NODE [ROLE]``) as
    {node: role}, ``Promoted`` for Pacemaker's older ``Master`` too; other lines are ignored."""
    located = {}
    for line in text.splitlines():
        _, found, where = line.partition(" is running on: ")
        words = where.split()
        if found and words:
            located[words[0]] = "Promoted" if words[1:2] in (["Promoted"], ["Master"]) else ""
    return located


class Cluster:
    """crm_attribute wrappers for one agent invocation."""

    def __init__(self, runner: Runner, env: Environment) -> None:
        self.runner = runner
        self.env = env
        self._node_name: str | None = None

    # -- who we are --------------------------------------------------------------------
    def node_name(self) -> str:
        """The node an attribute must be keyed by: the physical host in a bundle, then the
        node Pacemaker names for this action (``OCF_RESKEY_CRM_meta_on_node``, which
        crm_attribute also honours), then ``crm_node -n``, then the kernel's host name."""
        if self._node_name is None:
            host = self.env.attribute_host or self.env.on_node or None
            if host is None:
                host = self._crm_node_name()
            self._node_name = host or os.uname().nodename  # what gethostname() returns
        return self._node_name

    def _crm_node_name(self) -> str | None:
        """What ``crm_node -n`` says, or None when it fails or is not installed."""
        try:
            result = self.runner.run(["crm_node", "-n"])
        except NotInstalledError:
            return None
        return result.stdout.strip() if result.ok and result.stdout.strip() else None

    # -- promotion score ---------------------------------------------------------------
    def _promotion_argv(self, node: str | None = None) -> list[str]:
        feature_set = _version_tuple(self.env.environ.get("OCF_RESKEY_crm_feature_set", ""))
        if feature_set and feature_set < PROMOTION_FEATURE_SET:
            # -r: crm_master otherwise needs OCF_RESOURCE_INSTANCE in the process environment.
            argv = ["crm_master", "-l", "reboot", "-r", self.env.resource_name]
        else:
            argv = ["crm_attribute", f"--promotion={self.env.resource_name}"]
        host = node or self.env.attribute_host
        if host is not None:
            argv += ["-N", host]
        return argv

    def promotion_score(self, node: str | None = None) -> int | None:
        """This node's (or ``node``'s) promotion score for the resource, or None when it has none."""
        result = self.runner.run(self._promotion_argv(node) + ["-G", "-q"])
        value = self._value_or_none(result, "read the promotion score")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def set_promotion_score(self, score: int, known: int | None = None, node: str | None = None) -> bool:
        """Set this node's (or ``node``'s) promotion score; only writes when it changes (True
        if it wrote).

        Writing an unchanged score still costs a CIB update on every node, every monitor.
        ``known``: the score this agent last wrote, when it remembers one (somewhere a reboot
        clears, as the CIB's transient attributes are). A different score is written without
        reading the CIB first (one crm_attribute run less on promote, demote, start); the same
        score is checked against the CIB as usual.
        """
        if (known is None or known == score) and self.promotion_score(node) == score:
            return False
        self._update(self._promotion_argv(node) + ["-v", str(score)], "set the promotion score")
        return True

    def delete_promotion_score(self) -> None:
        """Remove this node's promotion score (on stop), tolerating "already gone"."""
        result = self.runner.run(self._promotion_argv() + ["-D"])
        if not result.ok and result.rc != RC_NO_SUCH_ATTRIBUTE:
            raise ClusterUnreachable(f"Could not delete the promotion score: {result.describe()}")

    # -- node attributes and cluster properties ----------------------------------------
    def node_attribute(self, name: str, node: str | None = None, lifetime: str = "reboot") -> str | None:
        argv = ["crm_attribute", "-N", node or self.node_name(), "-n", name, "-l", lifetime, "-G", "-q"]
        return self._value_or_none(self.runner.run(argv), f"read node attribute {name}")

    def set_node_attribute(self, name: str, value: str, node: str | None = None, lifetime: str = "reboot") -> None:
        argv = ["crm_attribute", "-N", node or self.node_name(), "-n", name, "-l", lifetime, "-v", value]
        self._update(argv, f"set node attribute {name}")

    def delete_node_attribute(self, name: str, node: str | None = None, lifetime: str = "reboot") -> None:
        argv = ["crm_attribute", "-N", node or self.node_name(), "-n", name, "-l", lifetime, "-D"]
        self._update(argv, f"delete node attribute {name}")

    def permanent_attributes(self, name: str) -> dict[str, str]:
        """Every node's permanent attribute ``name`` (node name -> value), read at once.

        Permanent attributes live in the CIB's configuration: unlike transient and private
        ones, they outlive their node's loss, fencing and reboot.
        """
        import xml.etree.ElementTree as ElementTree  # here: no other call needs it

        result = self.runner.run(["cibadmin", "--query", "--scope", "nodes"])
        if not result.ok:
            raise ClusterUnreachable(f"Could not read the nodes' attributes: {result.describe()}")
        try:
            nodes = ElementTree.fromstring(result.stdout)
        except ElementTree.ParseError as err:
            raise ClusterUnreachable(f"Could not read the nodes' attributes: cibadmin printed no XML ({err})") from None
        values = {}
        for node in nodes.iter("node"):
            for pair in node.findall("instance_attributes/nvpair"):
                if pair.get("name") == name and node.get("uname"):
                    values[node.get("uname", "")] = pair.get("value", "")
        return values

    def private_attribute(self, name: str, node: str | None = None) -> str | None:
        """A private node attribute of this node (or ``node``), None when unset or empty.

        Private attributes live in the attribute daemon only, never in the CIB, so writing
        one never aborts a transition (a transient attribute in the CIB's status does, which
        makes a value rewritten in every notification loop forever). Against a CIB file
        (``CIB_file``, no daemon) they are ordinary transient attributes of the file.
        """
        node = node or self.node_name()
        if _offline():
            return self.node_attribute(name, node)
        result = self.runner.run(["attrd_updater", "-Q", "-n", name, "-N", node])
        if result.rc in ATTRD_NO_SUCH_ATTRIBUTE:
            return None
        if not result.ok:
            raise ClusterUnreachable(f"Could not read private attribute {name}: {result.describe()}")
        # One line: name="NAME" host="NODE" value="VALUE"
        value = result.stdout.strip().partition(' value="')[2]
        return value[:-1] if value.endswith('"') and len(value) > 1 else None

    def set_private_attribute(self, name: str, value: str, node: str | None = None) -> None:
        """Set a private node attribute (see :meth:`private_attribute`); the daemon shares
        it with every node."""
        node = node or self.node_name()
        if _offline():
            self.set_node_attribute(name, value, node)
            return
        self._update(["attrd_updater", "-p", "-n", name, "-U", value, "-N", node],
                     f"set private attribute {name}")

    def cluster_property(self, name: str, set_id: str | None = None) -> str | None:
        """A crm_config property; ``set_id`` names its property set (``-s``), which
        crm_attribute needs as soon as the same name exists in more than one set."""
        argv = ["crm_attribute", "-t", "crm_config", "-n", name, *_set_option(set_id), "-G", "-q"]
        return self._value_or_none(self.runner.run(argv), f"read cluster property {name}")

    def set_cluster_property(self, name: str, value: str, set_id: str | None = None) -> None:
        argv = ["crm_attribute", "-t", "crm_config", "-n", name, *_set_option(set_id), "-v", value]
        self._update(argv, f"set cluster property {name}")

    # -- where resources run -----------------------------------------------------------
    def locate(self, resource: str | None = None) -> dict[str, str]:
        """The nodes a resource (default: this one; a clone's instances too) runs on as the
        CIB records it, with each one's role: ``Promoted`` (``Master`` before Pacemaker 2.1),
        ``""`` for any other. Empty when it runs nowhere, or is not in the CIB.

        For an agent that cannot rely on notifications (a clone with ``notify=false``): the
        status section is what the scheduler acted on, so a promotion shows there once its
        result is recorded."""
        name = resource or self.env.resource_name
        result = self.runner.run(["crm_resource", "--locate", "-r", name])
        if result.rc == RC_NO_SUCH_ATTRIBUTE:  # not in the CIB: run by hand, or by ocf-tester
            return {}
        if not result.ok:
            raise ClusterUnreachable(f"Could not locate resource {name}: {result.describe()}")
        return parse_locations(result.stdout)

    # -- several at once ---------------------------------------------------------------
    def concurrently(self, *calls: Callable[[], T]) -> list[T]:
        """Run independent reads and updates of this class at once (:func:`.run.concurrently`),
        e.g. ``cluster.concurrently(lambda: cluster.set_cluster_property(...), lambda:
        cluster.set_promotion_score(...))``.

        A live cluster's CIB manager applies updates one at a time, so only the tools' own
        start and wait overlap. Against a CIB file (``CIB_file``) each tool reads the whole
        file and writes it back, so two updates at once lose one of them (seen in the tests:
        a promotion score written back over by a cluster property's update): there the calls
        run one after the other.
        """
        return concurrently(*calls, at_once=not _offline())

    # -- shared ------------------------------------------------------------------------
    @staticmethod
    def _value_or_none(result: Result, what: str) -> str | None:
        if result.ok:
            return result.stdout.strip()
        if result.rc == RC_NO_SUCH_ATTRIBUTE:
            return None
        raise ClusterUnreachable(f"Could not {what}: {result.describe()}")

    def _update(self, argv: list[str], what: str) -> None:
        result = self.runner.run(argv)
        if not result.ok:
            raise ClusterUnreachable(f"Could not {what}: {result.describe()}")
