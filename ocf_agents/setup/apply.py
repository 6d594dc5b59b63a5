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
import xml.etree.ElementTree as ET
from typing import Callable, TextIO

from .checks import SetupError
from .render_pcs import Step, on_cib_file

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


def cib_elements(xml_text: str) -> dict[str, tuple[str, str | None]]:
    """Every id in the CIB's configuration -> (tag, id of the clone/group around it or None)."""
    root = ET.fromstring(xml_text)
    configuration = root.find("configuration")
    found: dict[str, tuple[str, str | None]] = {}

    def walk(element: ET.Element, container: str | None) -> None:
        for child in element:
            child_id = child.get("id")
            if child_id is not None:
                found.setdefault(child_id, (child.tag, container))
            walk(child, child_id if child.tag in CONTAINER_TAGS else container)

    if configuration is not None:
        walk(configuration, None)
    return found


def pending(steps: list[Step], elements: dict[str, tuple[str, str | None]]) -> tuple[list[Step], list[str]]:
    """The steps still to run, and what is already there; SetupError on a conflicting CIB."""
    todo: list[Step] = []
    present: list[str] = []
    for step in steps:
        there = [c for c in step.creates if c.id in elements]
        for created in there:
            tag, container = elements[created.id]
            if tag not in created.tags:
                raise SetupError(
                    f"the CIB already uses the id {created.id!r} for a {tag}, not a "
                    f"{' or '.join(sorted(created.tags))}: choose another name"
                )
            if created.parent is not None and container != created.parent:
                where = f"in {container!r}" if container else "on its own"
                raise SetupError(
                    f"the CIB already has {created.id!r} {where}, not in {created.parent!r}: "
                    "remove it or choose another name"
                )
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


def apply(steps: list[Step], cib_file: str | None, out: TextIO, run: Runner = run_command) -> None:
    """Run the steps missing from the CIB (``cib_file``, or the live cluster's when None)."""
    with tempfile.TemporaryDirectory(prefix="ocf-agents-setup-") as tmp:
        original = os.path.join(tmp, "original.xml")
        work = os.path.join(tmp, "work.xml")
        if cib_file is None:
            checked(run, ("pcs", "cluster", "cib", original), "pcs cluster cib " + original)
        else:
            shutil.copyfile(cib_file, original)
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
            f"pcs said:\n  {said.replace(chr(10), chr(10) + '  ') or '(nothing)'}\n"
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
