"""Reading man pages back, for the packaging tests: render with groff, find sections and examples.

The tests check what an operator sees (the rendered text), not the roff source, so a page
that escapes something wrongly fails even when the source looks right.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from lxml import etree

REPO = Path(__file__).resolve().parents[2]
GEN_MAN = REPO / "tools" / "gen_man.py"
LINE_LENGTH = "250n"  # wide enough that no parameter line or example is broken by groff


def load_generator() -> ModuleType:
    """tools/gen_man.py as a module (tools/ is not a package: it is run as a script)."""
    spec = importlib.util.spec_from_file_location("gen_man", GEN_MAN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def render(page: Path | str) -> tuple[str, str]:
    """(text, groff's warnings) of a page as ``man`` shows it, in plain ASCII."""
    source = page.read_text() if isinstance(page, Path) else page
    result = subprocess.run(
        ["groff", "-man", "-Tascii", "-ww", f"-rLL={LINE_LENGTH}", "-P-c", "-P-b", "-P-u"],
        input=source, capture_output=True, text=True, check=True,
    )
    return result.stdout, result.stderr


def sections(text: str) -> dict[str, str]:
    """Rendered text split at the unindented section headings (NAME, SYNOPSIS...)."""
    found: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if re.fullmatch(r"[A-Z][A-Z ]+", line):
            current = line
            found[current] = ""
        elif current is not None:
            found[current] += line + "\n"
    return found


def flat(text: str) -> str:
    """Whitespace collapsed, so that checks do not depend on line breaks and indentation."""
    return " ".join(text.split())


def examples(text: str, tool: str) -> list[list[str]]:
    """The commands shown under "With pcs:" / "With crmsh:", as argv lists."""
    block = sections(text)["EXAMPLES"].split(f"With {tool}:", 1)[1]
    block = block.split("With ", 1)[0].replace("\\\n", " ")
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


@dataclass(frozen=True)
class Declared:
    """What a meta-data document declares, read with lxml (independently of the generator)."""

    name: str
    shortdesc: str
    longdesc: str
    parameters: list[dict[str, str | None]]
    actions: list[dict[str, str]]


def declared(xml: str) -> Declared:
    root = etree.fromstring(xml.encode())
    parameters = [
        {
            "name": p.get("name"),
            "shortdesc": p.findtext("shortdesc", "").strip(),
            "type": p.find("content").get("type"),
            "default": p.find("content").get("default"),
            "required": p.get("required", "0"),
        }
        for p in root.iterfind("parameters/parameter")
    ]
    actions = [dict(a.attrib) for a in root.iterfind("actions/action")]
    return Declared(root.get("name"), root.findtext("shortdesc", "").strip(),
                    root.findtext("longdesc", "").strip(), parameters, actions)


def metadata_of(executable: Path) -> str:
    result = subprocess.run(
        [str(executable), "meta-data"], env={"OCF_ROOT": "/usr/lib/ocf", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True, timeout=30,
    )
    return result.stdout
