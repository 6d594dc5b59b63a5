"""A :class:`~.model.Setup` as crmsh commands (crmsh 4.x and 5.x, Pacemaker 2.1 role names).

One ``crm configure`` command per element, each a complete argv, so the output can be pasted
as it is or run one by one (``CIB_file=FILE`` makes crmsh work on a file, as pcs ``-f`` does).
"""

from __future__ import annotations

from .model import INFINITY, Colocation, Group, Order, Primitive, Promotable, Setup

CRM = ("crm", "configure")
# What pcs leaves to Pacemaker's defaults but crmsh 5 sets otherwise on every new clone
# (interleave=true; crmsh 4 left it unset): stated, so both renderings give the same cluster.
PCS_DEFAULTS = ("interleave=false",)


def render(setup: Setup) -> list[tuple[str, ...]]:
    commands: list[tuple[str, ...]] = []
    for resource in setup.resources:
        if isinstance(resource, Promotable):
            meta = ("promotable=true",) + tuple(f"{k}={v}" for k, v in resource.meta) + PCS_DEFAULTS
            commands += [primitive_argv(resource.primitive),
                         CRM + ("clone", resource.id, resource.primitive.id, "meta") + meta]
        elif isinstance(resource, Group):
            commands += [primitive_argv(m) for m in resource.members]
            commands.append(CRM + ("group", resource.id) + tuple(m.id for m in resource.members))
        else:
            commands.append(primitive_argv(resource))
    for constraint in setup.constraints:
        if isinstance(constraint, Order):
            commands.append(CRM + ("order", constraint.id, "Mandatory:",
                                   f"{constraint.first}:{constraint.first_action}",
                                   f"{constraint.then}:{constraint.then_action}"))
        else:
            commands.append(colocation_argv(constraint))
    return commands


def primitive_argv(primitive: Primitive) -> tuple[str, ...]:
    argv = list(CRM + ("primitive", primitive.id, str(primitive.agent)))
    if primitive.params:
        argv += ["params"] + [f"{k}={v}" for k, v in primitive.params]
    for op in primitive.ops:
        argv += ["op", op.name, f"interval={op.interval_s}s"]
        if op.role is not None:
            argv.append(f"role={op.role}")
    return tuple(argv)


def colocation_argv(colocation: Colocation) -> tuple[str, ...]:
    score = "inf:" if colocation.score == INFINITY else f"{colocation.score}:"
    with_rsc = colocation.with_rsc
    if colocation.with_role is not None:
        with_rsc += f":{colocation.with_role}"
    return CRM + ("colocation", colocation.id, score, colocation.rsc, with_rsc)


def on_cib_file(argv: tuple[str, ...], cib_file: str) -> tuple[str, ...]:
    """The same crm command working on a CIB file (``env`` keeps it one plain argv)."""
    return ("env", f"CIB_file={cib_file}") + argv
