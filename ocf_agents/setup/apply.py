"""Running the rendered pcs commands: on a CIB file (``--cib``) or on the live cluster.

The commands run one at a time on a working copy of the CIB (``pcs -f``), and the copy
replaces the original only when every command succeeded: the CIB file is replaced in one
rename, the live CIB receives the difference in one ``pcs cluster cib-push ... diff-against``
(the way pcs's documentation makes several changes at once). A failure leaves the CIB as it
was, and shows the command that failed with pcs's own error.

Before running anything, the CIB is read: a step whose resources or constraints are already
there is skipped, so applying the same setup twice changes nothing the second time.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, TextIO

from .checks import SetupError
from .render_pcs import ANYWHERE, Creates, Step, on_cib_file

PCS_TIMEOUT_S = 300  # pcs waits for the cluster on a live CIB push; never forever
CONTAINER_TAGS = frozenset({"clone", "master", "group", "bundle"})

Runner = Callable[[tuple[str, ...]], subprocess.CompletedProcess]


class ApplyError(Exception):
    """A command failed (or could not run); the message has the command and its error."""


def run_command(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=PCS_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise ApplyError(f"{argv[0]} is not installed (needed to run: {shlex.join(argv)})") from None
    except subprocess.TimeoutExpired:
        raise ApplyError(f"no answer after {PCS_TIMEOUT_S} s from: {shlex.join(argv)}") from None


@dataclass(frozen=True)
class CibElement:
    """What the applier needs to know of an element already in the CIB."""

    tag: str
    container: str | None  # id of the clone or group around it
    attrs: dict[str, str]
    params: dict[str, str]  # its first instance_attributes, for a primitive


def cib_elements(xml_text: str) -> dict[str, CibElement]:
    """Every id in the CIB's configuration, with its tag, container, attributes, parameters."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as err:
        raise SetupError(f"the CIB is not valid XML ({err})") from None
    if root.tag != "cib":
        raise SetupError(f"the CIB's root element is <{root.tag}>, not <cib>")
    found: dict[str, CibElement] = {}

    def walk(element: ET.Element, container: str | None) -> None:
        for child in element:
            child_id = child.get("id")
            if child_id is not None and child_id not in found:
                nvpairs = child.findall("instance_attributes[1]/nvpair")
                params = {nv.get("name", ""): nv.get("value", "") for nv in nvpairs}
                found[child_id] = CibElement(child.tag, container, dict(child.attrib), params)
            walk(child, child_id if child.tag in CONTAINER_TAGS else container)

    configuration = root.find("configuration")
    if configuration is not None:
        walk(configuration, None)
    return found


def pending(steps: list[Step], elements: dict[str, CibElement]) -> tuple[list[Step], list[str]]:
    """The steps still to run, and the ids already there; SetupError when the CIB has one of
    our ids in another shape (so that nothing is attached to the wrong resource)."""
    todo: list[Step] = []
    present: list[str] = []
    for step in steps:
        there = [c for c in step.creates if c.id in elements]
        for created in there:
            check_same(created, elements[created.id])
        if len(there) == len(step.creates):
            present += [c.id for c in step.creates]
        elif there:
            missing = [c.id for c in step.creates if c.id not in elements]
            raise SetupError(
                f"the CIB has {', '.join(c.id for c in there)} but not {', '.join(missing)}: "
                "it holds part of this setup in another shape; remove it or choose other names"
            )
        else:
            todo.append(step)
    return todo, present


def check_same(created: Creates, existing: CibElement) -> None:
    """SetupError unless ``existing`` is what ``created`` would have made."""
    name = created.id
    if existing.tag not in created.tags:
        raise SetupError(
            f"the CIB already uses the id {name!r} for a {existing.tag}, not a "
            f"{' or '.join(sorted(created.tags))}: choose another name"
        )
    if created.parent != ANYWHERE and existing.container != created.parent:
        where = f"in {existing.container!r}" if existing.container else "on its own"
        wanted = f"in {created.parent!r}" if created.parent else "on its own"
        raise SetupError(f"the CIB already has {name!r} {where}, not {wanted}: remove it or choose another name")
    differences = [
        f"{key}={existing_value!r} where this setup has {key}={value!r}"
        for source, expected in ((existing.attrs, created.attrs), (existing.params, created.params))
        for key, value in expected
        if (existing_value := source.get(key)) != value
    ]
    if differences:
        raise SetupError(
            f"the CIB already has {name!r} with other settings ({'; '.join(differences)}): "
            "change it with pcs (resource update) or remove it first"
        )


def apply(steps: list[Step], cib_file: str | None, out: TextIO, run: Runner = run_command) -> None:
    """Run the steps missing from the CIB (``cib_file``, or the live cluster's when None)."""
    with tempfile.TemporaryDirectory(prefix="ocf-agents-setup-") as tmp:
        original = os.path.join(tmp, "original.xml")
        work = os.path.join(tmp, "work.xml")
        if cib_file is None:
            checked(run, ("pcs", "cluster", "cib", original), "pcs cluster cib " + original)
        else:
            try:
                shutil.copyfile(cib_file, original)
            except OSError as err:
                raise SetupError(f"--cib {cib_file!r} cannot be read: {err.strerror}") from None
        shutil.copyfile(original, work)
        with open(original, encoding="utf-8") as cib:
            todo, present = pending(steps, cib_elements(cib.read()))
        for resource_id in present:
            print(f"present, left as it is: {resource_id}", file=out)
        if not todo:
            print("nothing to do: the CIB already holds this setup", file=out)
            return
        for step in todo:
            shown = shlex.join(on_cib_file(step.argv, cib_file) if cib_file else step.argv)
            print(f"+ {shown}", file=out, flush=True)
            checked(run, on_cib_file(step.argv, work), shown)
        if cib_file is None:
            push = ("pcs", "cluster", "cib-push", work, f"diff-against={original}")
            checked(run, push, "pcs cluster cib-push (the changes above, at once)")
            print(f"pushed {len(todo)} change(s) to the cluster", file=out)
        else:
            replace_file(work, cib_file)
            print(f"wrote {cib_file} ({len(todo)} change(s))", file=out)


def checked(run: Runner, argv: tuple[str, ...], shown: str) -> None:
    result = run(argv)
    if result.returncode != 0:
        said = "\n".join(part.strip() for part in (result.stderr, result.stdout) if part.strip())
        raise ApplyError(
            f"this command failed (exit status {result.returncode}):\n  {shown}\n"
            f"pcs said:\n{textwrap.indent(said or '(nothing)', '  ')}\n"
            "nothing was changed: the CIB is as it was before"
        )


def replace_file(source: str, target: str) -> None:
    """Put ``source``'s content at ``target`` in one rename, keeping ``target``'s mode."""
    mode = os.stat(target).st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)), prefix=".ocf-agents-")
    try:
        with os.fdopen(fd, "wb") as dst, open(source, "rb") as src:
            shutil.copyfileobj(src, dst)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
