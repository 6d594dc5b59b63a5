"""What Pacemaker tells an agent through its environment.

- ``OCF_RESKEY_<param>``: the resource's parameters (converted by :mod:`.metadata`).
- ``OCF_RESKEY_CRM_meta_<name>``: meta attributes, with ``-`` turned into ``_``: interval and
  timeout (milliseconds), clone, notify, promotable, on_node, physical_host,
  container_attribute_target...
- ``OCF_RESKEY_CRM_meta_notify_*``: during a notify action, who is starting, stopping,
  promoting... (see :class:`Notification`).
- ``OCF_CHECK_LEVEL``: how deep a monitor should look (0, 10, 20).
"""

from __future__ import annotations

import os

from .metadata import TRUE_WORDS
from .record import Record

TYPE_CHECKING = False  # typing is imported by type checkers only (see .record)
if TYPE_CHECKING:
    from typing import Mapping

META = "OCF_RESKEY_CRM_meta_"
NOTIFY = META + "notify_"

# Each category of a notification and, for the two renamed ones, the deprecated alias that
# older Pacemaker sets instead (or as well).
NOTIFY_CATEGORIES = ("start", "stop", "active", "inactive", "promote", "demote", "promoted", "unpromoted")
DEPRECATED_ALIASES = {"promoted": "master", "unpromoted": "slave"}


def is_true(text: str | None) -> bool:
    """``ocf_is_true``: yes/true/1/on in any case; anything else, unset included, is false."""
    return (text or "").strip().lower() in TRUE_WORDS


class Peers(Record):
    """One category of a notification: resource instances and the nodes they are on."""

    resources: tuple[str, ...] = ()
    unames: tuple[str, ...] = ()


class Notification(Record):
    """A pre- or post- notification of a start, stop, promote or demote."""

    type: str  # "pre" or "post"
    operation: str  # "start", "stop", "promote", "demote"
    peers: Mapping[str, Peers] = {}  # never changed: every reader only calls .get()

    def __getattr__(self, category: str) -> Peers:
        # notification.promote, notification.unpromoted... read like the shell variables.
        if category in NOTIFY_CATEGORIES:
            return self.peers.get(category, Peers())
        raise AttributeError(category)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Notification:
        """Parse the notify variables, tolerating the stray whitespace Pacemaker has sent."""
        peers = {}
        for category in NOTIFY_CATEGORIES:
            names = [category] + ([DEPRECATED_ALIASES[category]] if category in DEPRECATED_ALIASES else [])
            resources = _first_list(environ, [f"{NOTIFY}{n}_resource" for n in names])
            unames = _first_list(environ, [f"{NOTIFY}{n}_uname" for n in names])
            peers[category] = Peers(resources, unames)
        return cls(
            type=environ.get(NOTIFY + "type", "").strip(),
            operation=environ.get(NOTIFY + "operation", "").strip(),
            peers=peers,
        )


def _first_list(environ: Mapping[str, str], keys: list[str]) -> tuple[str, ...]:
    """The whitespace-separated words of the first of ``keys`` that is set and not blank."""
    for key in keys:
        words = environ.get(key, "").split()
        if words:
            return tuple(words)
    return ()


class Environment:
    """Read-only view of an agent invocation's environment."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        """A parameter exactly as Pacemaker passed it (``OCF_RESKEY_<name>``)."""
        return self.environ.get(f"OCF_RESKEY_{name}")

    def meta(self, name: str) -> str:
        """A meta attribute (``OCF_RESKEY_CRM_meta_<name>``, dashes as underscores), or ''."""
        return self.environ.get(META + name.replace("-", "_"), "").strip()

    def _meta_int(self, name: str) -> int:
        try:
            return int(self.meta(name) or 0)
        except ValueError:
            return 0

    @property
    def interval_ms(self) -> int:
        return self._meta_int("interval")

    @property
    def is_probe(self) -> bool:
        """A monitor with no interval is a probe: "is it running here, before I decide?"."""
        return self.interval_ms == 0

    @property
    def check_level(self) -> int:
        try:
            return int(self.environ.get("OCF_CHECK_LEVEL", "0") or 0)
        except ValueError:
            return 0

    @property
    def is_clone(self) -> bool:
        return bool(self.meta("clone_max")) or bool(self.meta("clone"))

    @property
    def is_promotable(self) -> bool:
        return is_true(self.meta("promotable")) or bool(self.meta("master_max"))

    @property
    def notify_enabled(self) -> bool:
        return is_true(self.meta("notify"))

    @property
    def on_node(self) -> str:
        return self.meta("on_node")

    @property
    def physical_host(self) -> str:
        return self.meta("physical_host")

    @property
    def container_attribute_target(self) -> str:
        return self.meta("container_attribute_target")

    @property
    def resource_instance(self) -> str:
        return self.environ.get("OCF_RESOURCE_INSTANCE", "")

    @property
    def resource_name(self) -> str:
        """The resource's name without a clone's ``:N`` suffix (``OCF_RESOURCE_INSTANCE``)."""
        return self.resource_instance.split(":", 1)[0]

    @property
    def attribute_host(self) -> str | None:
        """The host attributes must be keyed by when it is not this node: in a bundle whose
        ``container-attribute-target`` is ``host``, the physical host (as ocf_attribute_target).
        """
        if self.container_attribute_target == "host" and self.physical_host:
            return self.physical_host
        return None

    def notification(self) -> Notification:
        return Notification.from_environ(self.environ)
