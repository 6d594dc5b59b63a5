"""The benchmarks' command lines: a bad value is refused by argparse (exit 2) with a message
quoting it, before any namespace or server is made; good values are read as numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import parse_args

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, quoted", [
    (["bench.run", "--repoint-delay", "-3"], "'-3'"),
    (["bench.run", "--repoint-delay", "soon"], "'soon'"),
    (["bench.run", "--sizes", "1000,abc"], "'1000,abc'"),
    (["bench.run", "--scale-runs", "0"], "'0'"),
    (["bench.copy_stall", "--sizes", "abc"], "'abc'"),
])
def test_a_bad_value_is_refused_before_anything_runs(argv: list[str], quoted: str) -> None:
    module, *options = argv
    done = subprocess.run([sys.executable, "-m", module, *options], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert quoted in done.stderr and "Traceback" not in done.stderr


def test_good_values_are_read_as_numbers() -> None:
    args = parse_args(["--sizes", "1000, 100000", "--scale-runs", "3", "--repoint-delay", "1.5"])
    assert (args.sizes, args.scale_runs, args.repoint_delay) == ([1000, 100000], [3, 3], 1.5)
    assert parse_args(["--sizes", ""]).sizes == []
