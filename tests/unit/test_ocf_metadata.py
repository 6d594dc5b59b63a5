"""Parameter conversion and validation, and the meta-data document built from declarations."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ocf_agents.ocf.codes import ParameterError, Rc
from ocf_agents.ocf.metadata import PROMOTED, UNPROMOTED, Action, MetaData, Parameter, parse_boolean

DTD = Path("/usr/share/resource-agents/ra-api-1.dtd")
# Every character XML gives a meaning to, where a careless writer would break the document.
NASTY = 'a < b && c > "d" </longdesc>'


@pytest.mark.parametrize("word", ["yes", "YES", "true", "True", "1", "on", "On", " yes\n"])
def test_booleans_read_true_as_ocf_is_true_does(word: str) -> None:
    assert parse_boolean(word) is True


@pytest.mark.parametrize("word", ["no", "NO", "false", "FALSE", "0", "off", "Off"])
def test_booleans_read_false(word: str) -> None:
    assert parse_boolean(word) is False


@pytest.mark.parametrize(
    "param_type, raw, value",
    [
        ("integer", "42", 42),
        ("integer", " -3 ", -3),
        ("integer", "+7", 7),
        ("boolean", "Yes", True),
        ("boolean", "off", False),
        ("string", " kept as given ", " kept as given "),
    ],
)
def test_values_are_converted_to_the_declared_type(param_type: str, raw: str, value: object) -> None:
    assert Parameter("p", "s", "l", type=param_type).convert(raw) == value


@pytest.mark.parametrize(
    "param_type, raw, why",
    [
        ("integer", "12abc", "it is not an integer"),
        ("integer", "1.5", "it is not an integer"),
        ("integer", "1_000", "it is not an integer"),
        ("integer", "\u0661\u0662", "it is not an integer"),
        ("boolean", "maybe", "it is not a boolean"),
        ("boolean", "y", "it is not a boolean"),
    ],
)
def test_garbage_is_a_configuration_error_naming_parameter_and_value(
    param_type: str, raw: str, why: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        Parameter("wanted", "s", "l", type=param_type).convert(raw)
    assert caught.value.rc == Rc.ERR_CONFIGURED
    assert caught.value.reason.startswith(f"Parameter wanted={raw!r} is invalid: {why}")


@pytest.mark.parametrize("raw", [None, ""])
def test_a_required_parameter_must_be_given(raw: str | None) -> None:
    with pytest.raises(ParameterError, match="Parameter needed='' is invalid: it is required") as caught:
        Parameter("needed", "s", "l", required=True, default="ignored").convert(raw)
    assert caught.value.rc == Rc.ERR_CONFIGURED


@pytest.mark.parametrize("raw", [None, ""])
def test_an_absent_value_takes_the_default_converted_like_a_given_one(raw: str | None) -> None:
    assert Parameter("n", "s", "l", type="integer", default="10").convert(raw) == 10
    assert Parameter("b", "s", "l", type="boolean", default="true").convert(raw) is True


def test_an_absent_value_without_default_is_none() -> None:
    assert Parameter("n", "s", "l", type="integer").convert(None) is None


def test_a_bad_default_is_reported_like_a_bad_value() -> None:
    with pytest.raises(ParameterError, match="Parameter n='ten' is invalid"):
        Parameter("n", "s", "l", type="integer", default="ten").convert(None)


def test_the_validator_gets_the_converted_value_and_its_complaint_is_the_reason() -> None:
    seen = []

    def below_100(value: object) -> None:
        seen.append(value)
        if value >= 100:  # type: ignore[operator]
            raise ValueError("it must be below 100")

    param = Parameter("port", "s", "l", type="integer", validate=below_100)
    assert param.convert("99") == 99
    with pytest.raises(ParameterError) as caught:
        param.convert("100")
    assert seen == [99, 100]
    assert caught.value.reason == "Parameter port='100' is invalid: it must be below 100"


def sample_metadata(text: str = "plain", default: str | None = "x") -> MetaData:
    return MetaData(
        name="Sample",
        version="2.3",
        shortdesc=f"short {text}",
        longdesc=f"long {text}",
        parameters=(
            Parameter("name", f"name short {text}", f"name long {text}", required=True, unique=True),
            Parameter("count", "count", "count", type="integer", default="3"),
            Parameter("flag", "flag", "flag", type="boolean", default=default),
        ),
        actions=(
            Action("start", timeout=20),
            Action("monitor", timeout=30, interval=10, role=PROMOTED, depth=0),
            Action("monitor", timeout=30, interval=11, role=UNPROMOTED, depth=10),
        ),
    )


def parsed(document: str) -> etree._Element:
    return etree.fromstring(document.encode())


def test_the_document_has_the_doctype_ocf_tester_validates_against() -> None:
    lines = sample_metadata().to_xml().splitlines()
    assert lines[:2] == ['<?xml version="1.0"?>', '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">']


def test_the_document_says_ocf_1_1_and_the_agents_own_version() -> None:
    root = parsed(sample_metadata().to_xml())
    assert (root.tag, root.get("name"), root.get("version")) == ("resource-agent", "Sample", "2.3")
    assert root.findtext("version") == "1.1"
    assert [child.tag for child in root] == ["version", "longdesc", "shortdesc", "parameters", "actions"]


def test_parameters_carry_type_default_required_and_unique() -> None:
    root = parsed(sample_metadata().to_xml())
    params = {p.get("name"): p for p in root.iter("parameter")}
    assert list(params) == ["name", "count", "flag"]
    assert (params["name"].get("required"), params["name"].get("unique")) == ("1", "1")
    assert (params["count"].get("required"), params["count"].get("unique")) == ("0", "0")
    assert params["name"].find("content").attrib == {"type": "string"}
    assert params["count"].find("content").attrib == {"type": "integer", "default": "3"}
    assert params["flag"].find("content").attrib == {"type": "boolean", "default": "x"}


def test_actions_carry_timeout_interval_role_and_depth_in_seconds() -> None:
    root = parsed(sample_metadata().to_xml())
    assert [a.attrib for a in root.iter("action")] == [
        {"name": "start", "timeout": "20s"},
        {"name": "monitor", "timeout": "30s", "interval": "10s", "role": "Promoted", "depth": "0"},
        {"name": "monitor", "timeout": "30s", "interval": "11s", "role": "Unpromoted", "depth": "10"},
    ]


def test_every_text_is_escaped_and_reads_back_unchanged() -> None:
    document = sample_metadata(NASTY, default=NASTY).to_xml()
    assert "&lt;/longdesc&gt;" in document and "&amp;&amp;" in document and "&quot;d&quot;" in document
    root = parsed(document)
    assert root.findtext("longdesc") == f"long {NASTY}"
    assert root.findtext("shortdesc") == f"short {NASTY}"
    assert root.find("parameters/parameter/longdesc").text == f"name long {NASTY}"
    assert root.find("parameters/parameter[@name='flag']/content").get("default") == NASTY


def test_an_escaped_document_is_still_valid_against_both_schemas(ocf_rng: Path) -> None:
    root = parsed(sample_metadata(NASTY).to_xml())
    dtd = etree.DTD(str(DTD))
    assert dtd.validate(root), dtd.error_log
    rng = etree.RelaxNG(etree.parse(str(ocf_rng)))
    assert rng.validate(root), rng.error_log


def test_a_parameter_is_found_by_name() -> None:
    metadata = sample_metadata()
    assert metadata.parameter("count").type == "integer"
    with pytest.raises(KeyError):
        metadata.parameter("missing")
