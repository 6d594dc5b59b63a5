"""Declarative parameters and actions, and the meta-data document built from them.

One declaration serves three readers: Pacemaker and pcs read the meta-data XML, the
environment reader converts ``OCF_RESKEY_<name>`` with the declared type and default, and the
dispatcher runs each parameter's validator before any action that needs the configuration.

The document is written to pass both the OCF 1.0 DTD (``ra-api-1.dtd``, which ``ocf-tester``
checks with ``xmllint --valid``) and the OCF 1.1 RelaxNG schema: it says
``<version>1.1</version>``, uses only the content types both know (string, integer,
boolean) and none of the 1.1-only attributes the DTD would reject.
"""

from __future__ import annotations

from .codes import ParameterError
from .record import Record

TYPE_CHECKING = False  # typing is imported by type checkers only (see .record)
if TYPE_CHECKING:
    import xml.etree.ElementTree as ET
    from typing import Callable, Literal, Sequence

    ParamType = Literal["string", "integer", "boolean"]

OCF_VERSION = "1.1"
DOCTYPE = '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">'

Value = str | int | bool | None

# How ocf_is_true reads booleans; anything else is not a boolean at all.
TRUE_WORDS = frozenset({"yes", "true", "1", "on"})
FALSE_WORDS = frozenset({"no", "false", "0", "off"})

# Roles as OCF 1.1 and Pacemaker 2.1 spell them.
PROMOTED = "Promoted"
UNPROMOTED = "Unpromoted"


def parse_boolean(text: str) -> bool:
    """Read a boolean as ``ocf_is_true`` does (yes/true/1/on, any case), rejecting garbage."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("it is not a boolean (use yes/no, true/false, on/off or 1/0)")


def parse_integer(text: str) -> int:
    """Read a decimal integer, with an optional sign, as Pacemaker's integer type does.

    Python's ``int`` alone would also take ``1_000`` and non-ASCII digits, which no other
    reader of the configuration (pcs, crm_verify, a shell agent) accepts. (Checked without
    ``re``, which every action would otherwise pay for importing.)
    """
    word = text.strip()
    digits = word[1:] if word[:1] in ("+", "-") else word
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("it is not an integer")
    return int(word, 10)


CONVERTERS: dict[str, Callable[[str], Value]] = {
    "string": str,
    "integer": parse_integer,
    "boolean": parse_boolean,
}


class Parameter(Record):
    """One agent parameter: its meta-data and how its value is read and checked.

    ``validate`` receives the converted value and raises :class:`ValueError` with a short
    explanation when the value is wrong on every host; the library turns that into
    ``OCF_ERR_CONFIGURED`` with a reason naming the parameter and the value. Checks that
    depend on the host (files, programs) belong in the agent's own validate function.
    """

    name: str
    shortdesc: str
    longdesc: str
    type: ParamType = "string"
    default: str | None = None
    required: bool = False
    unique: bool = False
    validate: Callable[[Value], None] | None = None

    def convert(self, raw: str | None) -> Value:
        """Turn the environment's text into the declared type, applying the default.

        An unset or empty value means "not given", as in the shell library's
        ``: ${OCF_RESKEY_x=default}`` idiom, so the default applies. The default is written
        as the meta-data shows it and converted like any given value.
        """
        if raw is None or raw == "":
            if self.required:
                raise ParameterError(self.name, "", "it is required and was not given")
            if self.default is None:
                return None
            raw = self.default
        try:
            value = CONVERTERS[self.type](raw)
            if self.validate is not None:
                self.validate(value)
        except ValueError as err:
            raise ParameterError(self.name, raw, str(err)) from None
        return value


class Action(Record):
    """One action as the meta-data advertises it; timeouts and intervals in seconds."""

    name: str
    timeout: int
    interval: int | None = None
    role: str | None = None
    depth: int | None = None


class MetaData(Record):
    """The description of an agent that becomes its meta-data document."""

    name: str
    version: str
    shortdesc: str
    longdesc: str
    parameters: Sequence[Parameter]
    actions: Sequence[Action] = ()

    def parameter(self, name: str) -> Parameter:
        """The parameter declared under ``name`` (KeyError when there is none)."""
        for param in self.parameters:
            if param.name == name:
                return param
        raise KeyError(name)

    def to_xml(self) -> str:
        """The meta-data document, escaped by ElementTree, with the DTD's DOCTYPE."""
        import xml.etree.ElementTree as ET  # only the meta-data action pays for it

        root = ET.Element("resource-agent", name=self.name, version=self.version)
        ET.SubElement(root, "version").text = OCF_VERSION
        ET.SubElement(root, "longdesc", lang="en").text = self.longdesc
        ET.SubElement(root, "shortdesc", lang="en").text = self.shortdesc
        params = ET.SubElement(root, "parameters")
        for param in self.parameters:
            params.append(_parameter_element(param))
        actions = ET.SubElement(root, "actions")
        for action in self.actions:
            actions.append(_action_element(action))
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0"?>\n{DOCTYPE}\n{body}\n'


def _parameter_element(param: Parameter) -> ET.Element:
    import xml.etree.ElementTree as ET

    elem = ET.Element(
        "parameter",
        name=param.name,
        unique="1" if param.unique else "0",
        required="1" if param.required else "0",
    )
    ET.SubElement(elem, "longdesc", lang="en").text = param.longdesc
    ET.SubElement(elem, "shortdesc", lang="en").text = param.shortdesc
    content = ET.SubElement(elem, "content", type=param.type)
    if param.default is not None:
        content.set("default", param.default)
    return elem


def _action_element(action: Action) -> ET.Element:
    import xml.etree.ElementTree as ET

    elem = ET.Element("action", name=action.name, timeout=f"{action.timeout}s")
    if action.interval is not None:
        elem.set("interval", f"{action.interval}s")
    if action.role is not None:
        elem.set("role", action.role)
    if action.depth is not None:
        elem.set("depth", str(action.depth))
    return elem
