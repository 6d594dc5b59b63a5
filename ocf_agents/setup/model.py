"""The cluster configuration ``ocf-agents setup`` builds: resources and constraints as data.

The renderers (pcs of each version, crmsh) turn the same description into commands, so the
two syntaxes cannot drift apart; the applier reads the ids from here to find out what a CIB
already holds. Roles are spelled the Pacemaker 2.1 way; renderers translate for older tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INFINITY = "INFINITY"


@dataclass(frozen=True)
class Agent:
    """``standard:provider:type`` of a resource agent."""

    standard: str
    provider: str
    type: str

    def __str__(self) -> str:
        return f"{self.standard}:{self.provider}:{self.type}"


@dataclass(frozen=True)
class Op:
    """A recurring monitor; ``role`` None means every role (a plain resource)."""

    name: str
    interval_s: int
    role: str | None = None


@dataclass(frozen=True)
class Primitive:
    """One resource: its agent, its parameters (in the order given) and its monitors."""

    id: str
    agent: Agent
    params: tuple[tuple[str, str], ...]
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Promotable:
    """A promotable clone of one primitive, with its meta attributes (notify=true...)."""

    id: str
    primitive: Primitive
    meta: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Group:
    """Primitives started in order on one node, stopped in reverse, moved together."""

    id: str
    members: tuple[Primitive, ...]


Resource = Primitive | Promotable | Group


@dataclass(frozen=True)
class Order:
    """``first_action`` of ``first`` happens before ``then_action`` of ``then`` (Mandatory)."""

    id: str
    first: str
    first_action: str
    then: str
    then_action: str


@dataclass(frozen=True)
class Colocation:
    """``rsc`` runs where ``with_rsc`` runs in ``with_role`` (None: any role)."""

    id: str
    rsc: str
    with_rsc: str
    with_role: str | None
    score: str = INFINITY


Constraint = Order | Colocation


@dataclass(frozen=True)
class Setup:
    """What one ``ocf-agents setup`` invocation puts into the CIB, in creation order."""

    resources: tuple[Resource, ...]
    constraints: tuple[Constraint, ...] = field(default_factory=tuple)
    # Why the configuration is what it is, printed as comments before the commands.
    notes: tuple[str, ...] = field(default_factory=tuple)
