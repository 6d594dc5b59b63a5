"""Records: what callers of the former NamedTuple classes rely on, without typing."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from ocf_agents.ocf.record import Record

REPO = str(Path(__file__).resolve().parents[2])


class Point(Record):
    x: int
    y: int = 0
    label: str | None = None

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


def test_fields_by_name_position_and_unpacking() -> None:
    p = Point(1, label="a")
    assert (p.x, p.y, p.label) == (1, 0, "a") == tuple(p)
    x, y, label = p
    assert (x, y, label) == (1, 0, "a")
    assert Point._fields == ("x", "y", "label")


def test_equality_hash_replace_asdict_and_repr() -> None:
    p = Point(1, 2)
    assert p == Point(x=1, y=2) and hash(p) == hash(Point(1, 2))
    assert p.moved(3) == Point(4, 2) and p == Point(1, 2)
    assert p._asdict() == {"x": 1, "y": 2, "label": None}
    assert repr(p) == "Point(x=1, y=2, label=None)"


def test_copies_and_pickles_are_equal_records() -> None:
    p = Point(1, 2, "a")
    for other in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(other) is Point and other == p


def test_fields_are_read_only() -> None:
    with pytest.raises(AttributeError):
        Point(1).x = 2  # type: ignore[misc]


@pytest.mark.parametrize("args, kwargs, message", [
    ((), {}, "no value for field 'x'"),
    ((1, 2, "a", "extra"), {}, "3 fields, 4 values"),
    ((1,), {"z": 3}, "unknown or repeated field"),
    ((1,), {"x": 2}, "unknown or repeated field"),
])
def test_wrong_values_are_type_errors(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)


def test_a_field_without_default_after_one_with_default_is_refused() -> None:
    with pytest.raises(TypeError, match="'b' without a default"):
        class Bad(Record):
            a: int = 0
            b: int


def test_importing_records_imports_no_typing() -> None:
    code = "import sys; import ocf_agents.ocf.record; print('typing' in sys.modules, 'collections' in sys.modules)"
    out = subprocess.run([sys.executable, "-IS", "-c", f"import sys; sys.path.insert(0, {REPO!r}); {code}"],
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
