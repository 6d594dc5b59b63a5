"""Records: immutable values with named fields, declared like a ``typing.NamedTuple``.

Why not ``NamedTuple`` itself: an agent is a new process for every action, and a recurring
monitor runs every few seconds on every node. Importing ``typing`` costs about 5 ms of such a
call (it pulls ``re``, ``collections``, ``functools``...), and ``collections.namedtuple``
alone still pulls most of that, while the monitor's real work takes 4-10 ms. A record is the
same thing without those imports: a tuple whose fields are the class's annotations, in order,
a class attribute giving a field's default. So it keeps what callers of the former
``NamedTuple`` classes rely on: fields by name and by position, unpacking, equality and
hashing as tuples, ``_replace``, ``_asdict``, ``_fields`` and a readable ``repr``::

    class Action(Record):
        name: str
        timeout: int
        interval: int | None = None

Annotations are only read as names (every module here uses ``from __future__ import
annotations``), so the types in them cost nothing at run time.
"""

from __future__ import annotations

_MISSING = object()


class Record(tuple):
    """Base class of records: subclass it and annotate the fields."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _defaults: dict[str, object] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        fields = tuple(cls.__dict__.get("__annotations__", {}))
        if not fields:
            return  # a subclass adding methods only keeps its parent's fields
        defaults = {}
        for index, name in enumerate(fields):
            default = cls.__dict__.get(name, _MISSING)
            if default is not _MISSING:
                defaults[name] = default
            elif defaults:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
            setattr(cls, name, property(lambda self, i=index: self[i], doc=f"Field {index}: {name}."))
        cls._fields = fields
        cls._defaults = defaults

    def __new__(cls, *args: object, **kwargs: object) -> Record:
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__} has {len(fields)} fields, {len(args)} values were given")
        values = list(args)
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in cls._defaults:
                values.append(cls._defaults[name])
            else:
                raise TypeError(f"{cls.__name__}: no value for field {name!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__}: unknown or repeated field(s) {', '.join(map(repr, kwargs))}")
        return tuple.__new__(cls, values)

    def __getnewargs__(self) -> tuple:
        return tuple(self)  # copy and pickle rebuild the record through __new__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={v!r}' for n, v in zip(self._fields, self))})"

    def _asdict(self) -> dict[str, object]:
        return dict(zip(self._fields, self))

    def _replace(self, **changes: object) -> Record:
        """A copy with some fields changed (as ``NamedTuple._replace``)."""
        return type(self)(**{**self._asdict(), **changes})
