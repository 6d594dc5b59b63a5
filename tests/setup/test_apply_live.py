"""``--apply`` without ``--cib``: the live CIB is copied, changed with ``pcs -f``, pushed once.

pcs is faked here (pytest-subprocess), to see the exact calls and a failure in the middle;
test_offline.py runs the same path with the real pcs, pointed at a file by CIB_file.
"""

from __future__ import annotations

from pathlib import Path

from .helpers import setup_cli

LIVE_CIB = """<cib><configuration><crm_config/><nodes/><resources>
<primitive id="ovndb_servers-vip" class="ocf" provider="heartbeat" type="IPaddr2">
<instance_attributes id="a"><nvpair id="b" name="ip" value="192.0.2.10"/></instance_attributes>
</primitive></resources><constraints/></configuration><status/></cib>"""
ARGS = ("ovndb", "--master-ip", "192.0.2.10", "--pcs-version", "0.11", "--apply")


def fake_live_cluster(fp) -> None:
    fp.register(["pcs", "cluster", "cib", fp.any()], callback=lambda p: Path(p.args[3]).write_text(LIVE_CIB))


def test_changes_are_made_on_a_copy_and_pushed_once(fp) -> None:
    fake_live_cluster(fp)
    fp.register(["pcs", "-f", fp.any()], occurrences=3)
    fp.register(["pcs", "cluster", "cib-push", fp.any()])
    result = setup_cli(*ARGS)
    assert result.rc == 0, result.err
    calls = [list(map(str, c)) for c in fp.calls]
    original = calls[0][3]
    work = calls[1][2]
    assert [c[3:5] for c in calls[1:4]] == [["resource", "create"], ["constraint", "order"],
                                           ["constraint", "colocation"]]
    assert {c[2] for c in calls[1:4]} == {work} and work != original
    assert calls[4] == ["pcs", "cluster", "cib-push", work, f"diff-against={original}"]
    assert "present, left as it is: ovndb_servers-vip" in result.out  # the VIP was already there
    assert "+ pcs resource create ovndb_servers " in result.out  # shown as the operator would type it


def test_a_failed_step_pushes_nothing(fp) -> None:
    fake_live_cluster(fp)
    fp.register(["pcs", "-f", fp.any()], returncode=1, stderr="Error: unable to get cib\n")
    result = setup_cli(*ARGS)
    assert result.rc == 1
    assert "Error: unable to get cib" in result.err
    assert "pcs resource create ovndb_servers" in result.err
    assert not any("cib-push" in map(str, c) for c in fp.calls)
    assert len(fp.calls) == 2
