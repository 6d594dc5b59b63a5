"""A :class:`~.model.Setup` as pcs commands, in the syntax of the pcs version at hand.

What changed between versions (pcs's changelog):

- 0.9: promotable clones are ``master`` resources, made with ``pcs resource master``; roles
  are ``Master``/``Slave`` (``with master`` in colocations).
- 0.10: ``pcs resource create ... promotable``; the clone is called ``<primitive>-clone``,
  and only 0.10.7 and later accept another clone id there.
- 0.11: roles are ``Promoted``/``Unpromoted`` (the old names are deprecated).

Each command is a :class:`Step` that also says which CIB ids it creates, so that the applier
can skip what a CIB already holds instead of duplicating it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocf_agents.ocf.metadata import PROMOTED, UNPROMOTED

from .checks import SetupError
from .model import Colocation, Group, Op, Order, Primitive, Promotable, Setup

VERSION_PATTERN = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
OLDEST = (0, 9, 0)
PROMOTABLE_KEYWORD = (0, 10, 0)  # `resource create ... promotable`, <master> gone
CLONE_ID_IN_CREATE = (0, 10, 7)  # `promotable <clone id>`
NEW_ROLE_NAMES = (0, 11, 0)  # Promoted / Unpromoted
LEGACY_ROLES = {PROMOTED: "Master", UNPROMOTED: "Slave"}
PROMOTABLE_TAGS = frozenset({"clone", "master"})
PRIMITIVE_TAGS = frozenset({"primitive"})
ANYWHERE = "*"


@dataclass(frozen=True)
class Creates:
    """An element a step adds to the CIB, as the applier recognises it when already there.

    ``tags``: the element names it may have. ``parent``: the id of the clone or group around
    it, None for the top level, :data:`ANYWHERE` when either is right. ``attrs``: attributes
    it must have (agent, constraint ends). ``params``: instance attributes it must have.
    """

    id: str
    tags: frozenset[str]
    parent: str | None = None
    attrs: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    creates: tuple[Creates, ...]


def parse_version(text: str) -> tuple[int, int, int]:
    """``0.11.5`` (or ``0.10``, or pcs --version's own output) as a tuple; SetupError if not."""
    match = VERSION_PATTERN.match(text.strip())
    if match is None:
        raise SetupError(f"--pcs-version {text!r} is not a pcs version (such as 0.9, 0.10.8 or 0.11.5)")
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    if version < OLDEST:
        raise SetupError(f"pcs {text.strip()} is older than 0.9, which this tool does not support")
    return version


def render(setup: Setup, version: tuple[int, int, int], force: bool = False) -> list[Step]:
    """The pcs commands for ``setup``; ``force`` lets pcs create resources whose agent is not
    installed on this host (pcs otherwise reads the agent's meta-data to check parameters)."""
    return [with_force(s) if force else s for s in unforced(setup, version)]


def with_force(step: Step) -> Step:
    if step.argv[1:3] != ("resource", "create"):
        return step
    return Step(step.argv + ("--force",), step.creates)


def unforced(setup: Setup, version: tuple[int, int, int]) -> list[Step]:
    steps: list[Step] = []
    for resource in setup.resources:
        if isinstance(resource, Promotable):
            steps += promotable_steps(resource, version)
        elif isinstance(resource, Group):
            steps += [Step(create_argv(m, version) + ("--group", resource.id), (primitive_creates(m, resource.id),))
                      for m in resource.members]
        else:
            steps.append(Step(create_argv(resource, version), (primitive_creates(resource, None),)))
    for constraint in setup.constraints:
        if isinstance(constraint, Order):
            argv = ("pcs", "constraint", "order", constraint.first_action, constraint.first, "then",
                    constraint.then_action, constraint.then, f"id={constraint.id}")
            ends = (("first", constraint.first), ("then", constraint.then))
            steps.append(Step(argv, (Creates(constraint.id, frozenset({"rsc_order"}), ANYWHERE, ends),)))
        else:
            ends = (("rsc", constraint.rsc), ("with-rsc", constraint.with_rsc))
            steps.append(Step(colocation_argv(constraint, version),
                              (Creates(constraint.id, frozenset({"rsc_colocation"}), ANYWHERE, ends),)))
    return steps


def primitive_creates(primitive: Primitive, parent: str | None) -> Creates:
    agent = primitive.agent
    attrs = (("class", agent.standard), ("provider", agent.provider), ("type", agent.type))
    return Creates(primitive.id, PRIMITIVE_TAGS, parent, attrs, primitive.params)


def promotable_steps(clone: Promotable, version: tuple[int, int, int]) -> list[Step]:
    primitive = clone.primitive
    meta = tuple(f"{k}={v}" for k, v in clone.meta)
    if version < PROMOTABLE_KEYWORD:
        return [
            Step(create_argv(primitive, version), (primitive_creates(primitive, ANYWHERE),)),
            Step(("pcs", "resource", "master", clone.id, primitive.id) + meta, (Creates(clone.id, PROMOTABLE_TAGS),)),
        ]
    if version >= CLONE_ID_IN_CREATE:
        keyword: tuple[str, ...] = ("promotable", clone.id)
    elif clone.id == f"{primitive.id}-clone":
        keyword = ("promotable",)
    else:
        raise SetupError(
            f"--clone-name {clone.id!r}: pcs {'.'.join(map(str, version))} always names the clone "
            f"{primitive.id}-clone (pcs 0.10.7 and later accept another name)"
        )
    return [
        Step(create_argv(primitive, version) + keyword + meta,
             (primitive_creates(primitive, clone.id), Creates(clone.id, PROMOTABLE_TAGS)))
    ]


def create_argv(primitive: Primitive, version: tuple[int, int, int]) -> tuple[str, ...]:
    argv = ["pcs", "resource", "create", primitive.id, str(primitive.agent)]
    argv += [f"{k}={v}" for k, v in primitive.params]
    for op in primitive.ops:
        argv += op_words(op, version)
    return tuple(argv)


def op_words(op: Op, version: tuple[int, int, int]) -> list[str]:
    words = ["op", op.name, f"interval={op.interval_s}s"]
    if op.role is not None:
        words.append(f"role={role_name(op.role, version)}")
    return words


def colocation_argv(colocation: Colocation, version: tuple[int, int, int]) -> tuple[str, ...]:
    argv = ["pcs", "constraint", "colocation", "add", colocation.rsc, "with"]
    if colocation.with_role is not None:
        role = role_name(colocation.with_role, version)
        argv.append(role if version >= NEW_ROLE_NAMES else role.lower())
    argv += [colocation.with_rsc, colocation.score, f"id={colocation.id}"]
    return tuple(argv)


def role_name(role: str, version: tuple[int, int, int]) -> str:
    return role if version >= NEW_ROLE_NAMES else LEGACY_ROLES[role]


def on_cib_file(argv: tuple[str, ...], cib_file: str) -> tuple[str, ...]:
    """The same pcs command working on a CIB file instead of the live cluster."""
    return (argv[0], "-f", cib_file) + argv[1:]
