#!/usr/bin/python3
"""Write each OCF resource agent's man page, section 7, from the agent's own meta-data.

    tools/gen_man.py --provider ovsha --output docs/man heartbeat/ovndb-servers heartbeat/OVSPort

Each executable is run with ``meta-data``, exactly as Pacemaker and pcs run it, and the page
``ocf_<provider>_<agent>.7`` says what that document says: descriptions, every parameter with
its type and default, every action with its timeout, and pcs and crmsh examples built from the
same declarations, so a page says nothing the cluster does not see. Rerun ``make docs``
after changing an agent (tests/packaging checks that docs/man is current). The page name follows resource-agents' convention
(``man ocf_heartbeat_IPaddr2``). Standard library only: it runs inside the package build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

MANUAL = "OCF resource agents"
DEFAULT_OCF_ROOT = "/usr/lib/ocf"
META_DATA_TIMEOUT = 30  # seconds; meta-data takes milliseconds, a hang must not stall a build

# Values that make the examples realistic for the parameters an operator nearly always sets.
# Addresses are from the documentation ranges (RFC 5737 / RFC 3849). Any other required
# parameter gets an upper-case placeholder.
EXAMPLE_VALUES: dict[str, dict[str, str]] = {
    "ovndb-servers": {"master_ip": "192.0.2.10"},
    "OVSPort": {"bridge": "br-ex", "interface": "vip0", "mac": "02:00:5e:10:00:01"},
}
EXAMPLE_IDS = {"ovndb-servers": "ovndb_servers", "OVSPort": "vip0-port"}  # as ocf-agents setup names them


# -- the meta-data, as read ---------------------------------------------------------------

@dataclass(frozen=True)
class ParameterDoc:
    name: str
    shortdesc: str
    longdesc: str
    type: str
    default: str | None
    required: bool
    unique: bool


@dataclass(frozen=True)
class ActionDoc:
    name: str
    timeout: str | None
    interval: str | None
    role: str | None
    depth: str | None

    @property
    def recurring(self) -> bool:
        return self.interval not in (None, "", "0", "0s")


@dataclass(frozen=True)
class AgentDoc:
    """One agent's meta-data; ``type`` is the executable's name, which is what Pacemaker uses."""

    type: str
    provider: str
    version: str
    shortdesc: str
    longdesc: str
    parameters: tuple[ParameterDoc, ...]
    actions: tuple[ActionDoc, ...]

    @property
    def page(self) -> str:
        return f"ocf_{self.provider}_{self.type}"

    @property
    def promotable(self) -> bool:
        names = {a.name for a in self.actions}
        return {"promote", "demote"} <= names

    @property
    def wants_notify(self) -> bool:
        return any(a.name == "notify" for a in self.actions)


def _text(elem: ET.Element | None) -> str:
    """An element's text with the indentation of the XML source removed."""
    if elem is None or elem.text is None:
        return ""
    return textwrap.dedent(elem.text).strip()


def _parameter(elem: ET.Element) -> ParameterDoc:
    content = elem.find("content")
    return ParameterDoc(
        name=elem.get("name", ""),
        shortdesc=_text(elem.find("shortdesc")),
        longdesc=_text(elem.find("longdesc")),
        type=content.get("type", "string") if content is not None else "string",
        default=content.get("default") if content is not None else None,
        required=elem.get("required", "0") == "1",
        unique=elem.get("unique", "0") == "1",
    )


def parse_metadata(xml: str, agent_type: str, provider: str) -> AgentDoc:
    """Read a meta-data document (OCF 1.0 or 1.1) into the fields a page shows."""
    root = ET.fromstring(xml.encode())
    if root.tag != "resource-agent":
        raise ValueError(f"{agent_type}: meta-data root is <{root.tag}>, not <resource-agent>")
    parameters = tuple(_parameter(p) for p in root.iterfind("parameters/parameter"))
    actions = tuple(
        ActionDoc(a.get("name", ""), a.get("timeout"), a.get("interval"), a.get("role"), a.get("depth"))
        for a in root.iterfind("actions/action")
    )
    return AgentDoc(
        type=agent_type,
        provider=provider,
        version=root.get("version", ""),
        shortdesc=_text(root.find("shortdesc")),
        longdesc=_text(root.find("longdesc")),
        parameters=parameters,
        actions=actions,
    )


def read_metadata(executable: Path, ocf_root: str) -> str:
    """Run ``<agent> meta-data`` with the little environment Pacemaker's executor gives."""
    env = {"OCF_ROOT": ocf_root, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}
    result = subprocess.run(
        [str(executable), "meta-data"],
        env=env, capture_output=True, text=True, timeout=META_DATA_TIMEOUT, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{executable} meta-data exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


# -- roff -----------------------------------------------------------------------------------

def roff(text: str) -> str:
    """Prose for roff: backslashes shown as such, no line read as a request."""
    lines = text.replace("\\", "\\e").split("\n")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in lines)


def literal(text: str) -> str:
    """Names, values and commands: like prose, and ``-`` kept a real minus sign to copy."""
    return roff(text).replace("-", "\\-")


def blocks(text: str) -> Iterator[tuple[str, list[str]]]:
    """Split a description into paragraphs, bullet lists and indented (verbatim) blocks.

    A blank line separates paragraphs; a paragraph that starts with ``- `` or ``* `` is a
    list (a line without the marker continues the item before it); one whose lines are all
    indented is shown verbatim.
    """
    for chunk in text.split("\n\n"):
        if not chunk.strip():
            continue
        lines = chunk.strip("\n").split("\n")
        if all(line[:1] in (" ", "\t") for line in lines):
            yield "verbatim", textwrap.dedent(chunk.strip("\n")).split("\n")
        elif lines[0].lstrip().startswith(("- ", "* ")):
            items: list[str] = []
            for line in lines:
                stripped = line.strip()
                if stripped.startswith(("- ", "* ")):
                    items.append(stripped[2:])
                else:
                    items[-1] += " " + stripped
            yield "list", items
        else:
            yield "paragraph", [" ".join(line.strip() for line in lines)]


def render_blocks(text: str, para: str = ".PP") -> list[str]:
    """roff for a description; ``para`` is the paragraph macro (``.IP`` under a parameter)."""
    out: list[str] = []
    for kind, lines in blocks(text):
        if kind == "paragraph":
            out += [para, roff(lines[0])]
        elif kind == "list":
            out.append(".RS" if para == ".IP" else ".PD 0")
            for item in lines:
                out += [".IP \\(bu 2", roff(item)]
            out.append(".RE" if para == ".IP" else ".PD")
        else:
            out += [para, ".nf", *(literal(line) for line in lines), ".fi"]
    return out


# -- the page ---------------------------------------------------------------------------------

def parameter_summary(param: ParameterDoc) -> str:
    """``(integer, default: 5000)``: what an operator checks first."""
    facts = [param.type]
    if param.required:
        facts.append("required")
    if param.unique:
        facts.append("unique")
    if param.default is not None:
        facts.append(f"default: \\fB{literal(param.default)}\\fR" if param.default else "default: empty")
    elif not param.required:
        facts.append("no default")
    return "(" + ", ".join(facts) + ")"


def action_summary(action: ActionDoc) -> str:
    facts = [f"{label} {literal(value)}" for label, value in (
        ("timeout", action.timeout), ("interval", action.interval),
        ("role", action.role), ("depth", action.depth),
    ) if value]
    return ", ".join(facts) or "no attributes"


def example_params(agent: AgentDoc) -> list[str]:
    """``name=value`` for the parameters the examples set: required ones and well-known ones."""
    known = EXAMPLE_VALUES.get(agent.type, {})
    return [
        f"{p.name}={known.get(p.name, p.name.upper())}"
        for p in agent.parameters
        if p.required or p.name in known
    ]


def example_ops(agent: AgentDoc) -> list[str]:
    """One ``op monitor ...`` per recurring action the agent advertises."""
    ops = []
    for action in agent.actions:
        if action.recurring:
            attrs = [f"interval={action.interval}"]
            attrs += [f"role={action.role}"] if action.role else []
            attrs += [f"timeout={action.timeout}"] if action.timeout else []
            ops.append(f"op {action.name} " + " ".join(attrs))
    return ops


def pcs_example(agent: AgentDoc) -> list[str]:
    rid = EXAMPLE_IDS.get(agent.type, agent.type.lower())
    words = [f"pcs resource create {rid} ocf:{agent.provider}:{agent.type}", *example_params(agent), *example_ops(agent)]
    if agent.promotable:
        words.append("promotable" + (" notify=true" if agent.wants_notify else ""))
    return continued(words)


def crmsh_example(agent: AgentDoc) -> list[str]:
    rid = EXAMPLE_IDS.get(agent.type, agent.type.lower())
    params = example_params(agent)
    words = [f"crm configure primitive {rid} ocf:{agent.provider}:{agent.type}"]
    words += ["params " + " ".join(params)] if params else []
    words += example_ops(agent)
    lines = continued(words)
    if agent.promotable:
        meta = "promotable=true" + (" notify=true" if agent.wants_notify else "")
        lines.append(f"crm configure clone {rid}-clone {rid} meta {meta}")
    return lines


def continued(words: Sequence[str]) -> list[str]:
    """A shell command, one clause a line, continued with backslashes."""
    return [("" if i == 0 else "    ") + w + (" \\" if i < len(words) - 1 else "") for i, w in enumerate(words)]


def render(agent: AgentDoc, source: str, related: Sequence[tuple[str, int]] = ()) -> str:
    """The whole page as roff (man macros)."""
    out = [
        f".\\\" Generated by tools/gen_man.py from `{agent.type} meta-data`; do not edit.",
        f'.TH "{agent.page.upper()}" 7 "" "{source}" "{MANUAL}"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{literal(agent.page)} \\- {roff(agent.shortdesc)}",
        ".SH SYNOPSIS",
        f"[\\fBOCF_RESKEY_\\fIparameter\\fB=\\fIvalue\\fR ...] \\fB{literal(agent.type)}\\fR "
        f"{{{' | '.join(sorted({literal(a.name) for a in agent.actions}))}}}",
        ".SH DESCRIPTION",
        *render_blocks(agent.longdesc or agent.shortdesc),
        ".PP",
        f"Resource agent \\fBocf:{literal(agent.provider)}:{literal(agent.type)}\\fR, "
        f"version {literal(agent.version)}.",
        ".SH PARAMETERS",
        "Each parameter reaches the agent as the environment variable "
        "\\fBOCF_RESKEY_\\fIname\\fR.",
    ]
    if not agent.parameters:
        out += [".PP", "This agent has no parameters."]
    for param in agent.parameters:
        out += [".TP", f"\\fB{literal(param.name)}\\fR {parameter_summary(param)}", roff(param.shortdesc)]
        if param.longdesc and param.longdesc != param.shortdesc:
            out += render_blocks(param.longdesc, para=".IP")
    out += [".SH ACTIONS", "Timeouts are the minimums the agent needs; intervals are suggestions."]
    for action in agent.actions:
        out += [".TP", f"\\fB{literal(action.name)}\\fR", action_summary(action)]
    out += [
        ".SH EXAMPLES",
        "With pcs:",
        ".PP", ".RS 4", ".nf", *(literal(line) for line in pcs_example(agent)), ".fi", ".RE",
        ".PP",
        "With crmsh:",
        ".PP", ".RS 4", ".nf", *(literal(line) for line in crmsh_example(agent)), ".fi", ".RE",
        ".SH FILES",
        f"\\fI{literal(DEFAULT_OCF_ROOT)}/resource.d/{literal(agent.provider)}/{literal(agent.type)}\\fR",
        ".SH SEE ALSO",
        see_also([page for page in related if page[0] != agent.page]),
    ]
    return "\n".join(out) + "\n"


def see_also(related: Sequence[tuple[str, int]]) -> str:
    """The suite's other pages, then the cluster tools an operator uses with the agents."""
    tools = [("pcs", 8), ("crm", 8), ("crm_resource", 8), ("ocf-tester", 8)]
    return ", ".join(f"\\fB{literal(name)}\\fR({section})" for name, section in [*related, *tools])


# -- the ocf-agents command's page ------------------------------------------------------------

def subcommands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every sub-command's parser, depth first, in the order they were registered."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from subcommands(sub)


def render_command(parser: argparse.ArgumentParser, source: str, related: Sequence[tuple[str, int]]) -> str:
    """The command's page, section 8: its description, then each sub-command's --help."""
    description = parser.description or ""
    out = [
        ".\\\" Generated by tools/gen_man.py from the command's argument parser; do not edit.",
        f'.TH "{parser.prog.upper()}" 8 "" "{source}" "System Administration"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{literal(parser.prog)} \\- {roff(description.rstrip('.'))}",
        ".SH SYNOPSIS",
        ".nf",
        literal(parser.format_usage().removeprefix("usage: ").strip()),
        ".fi",
        ".SH DESCRIPTION",
        *render_blocks(description),
        ".PP",
        "Each command below is shown with its \\fB\\-\\-help\\fR.",
        ".SH COMMANDS",
    ]
    for sub in subcommands(parser):
        out += [f".SS {literal(sub.prog)}", ".nf", *(literal(line) for line in sub.format_help().splitlines()), ".fi"]
    out += [".SH SEE ALSO", see_also(related)]
    return "\n".join(out) + "\n"


# -- the command -------------------------------------------------------------------------------

def package_version() -> str:
    """ocf_agents.__version__, read from the checkout this tool belongs to."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ocf_agents import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--provider", default="ovsha", help="OCF provider the agents are installed under")
    parser.add_argument("--output", type=Path, default=Path("docs/man"), help="directory for the pages")
    parser.add_argument("--ocf-root", default=os.environ.get("OCF_ROOT", DEFAULT_OCF_ROOT))
    parser.add_argument("--source", help="page footer (default: ocf-agents and its version)")
    parser.add_argument("--command", action="store_true", help="also write ocf-agents.8 for the ocf-agents command")
    parser.add_argument("agents", nargs="+", type=Path, help="agent executables")
    args = parser.parse_args(argv)

    source = args.source or f"ocf-agents {package_version()}"
    docs = [parse_metadata(read_metadata(path, args.ocf_root), path.name, args.provider) for path in args.agents]
    related = [(doc.page, 7) for doc in docs] + ([("ocf-agents", 8)] if args.command else [])
    pages = {f"{doc.page}.7": render(doc, source, related) for doc in docs}
    if args.command:
        from ocf_agents.cli import build_parser  # importable: package_version() put it on the path

        os.environ["COLUMNS"] = "80"  # argparse wraps --help to the terminal: make it the same everywhere
        pages["ocf-agents.8"] = render_command(build_parser(), source, [p for p in related if p[1] == 7])
    args.output.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (args.output / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.output / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
