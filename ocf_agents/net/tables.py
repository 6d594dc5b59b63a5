"""Routing table identifiers: a number, or a name that iproute2's ``rt_tables`` files define.

A table parameter is checked in two steps, because the two can be wrong in different places:
its form (:func:`check_table`: a number in range, or a name that is not one of the kernel's
own tables) is the same on every host, while what a name stands for (:func:`table_number`)
is read from this host's ``rt_tables``. Every command is then given the number, so that what
``ip -N`` lists can be compared with it.
"""

from __future__ import annotations

import os

MAX_TABLE = 0xFFFFFFFF  # a table id is a 32-bit number
# The kernel's own tables: a rule or route of an agent must never go into, or come out of, these.
RESERVED = {"unspec": 0, "default": 253, "main": 254, "local": 255}
NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# Where iproute2 reads table names: /etc first, then the distribution's defaults (newer
# iproute2 ships rt_tables under /usr); each directory's rt_tables.d/*.conf after its file.
CONFIG_DIRS = ("/etc/iproute2", "/usr/lib/iproute2", "/usr/share/iproute2")
RANGE = f"1-{MAX_TABLE} except {', '.join(str(n) for n in sorted(RESERVED.values())[1:])}"


def check_table(text: str) -> None:
    """Raise ValueError saying why ``text`` cannot name a table of an agent's own, anywhere."""
    if text.isascii() and text.isdigit():
        number = int(text)
        if not 0 < number <= MAX_TABLE or number in RESERVED.values():
            raise ValueError(f"a table number is {RANGE} (0 and 253-255 are the kernel's own)")
        return
    if text in RESERVED:
        raise ValueError(f"{text} is one of the kernel's own tables")
    if not text[:1].isalpha() or not set(text) <= NAME_CHARACTERS:
        raise ValueError(
            f"it is neither a table number ({RANGE}) nor a table name "
            "(a letter, then letters, digits, '_', '.' or '-')"
        )


def table_number(text: str, config_dirs: tuple[str, ...] = CONFIG_DIRS) -> int:
    """The number of table ``text`` (checked by :func:`check_table`) on this host.

    LookupError when no ``rt_tables`` file here defines the name; ValueError when this host
    maps it to one of the kernel's own tables.
    """
    if text.isdigit():
        return int(text)
    for path in _table_files(config_dirs):
        number = _names(path).get(text)
        if number is not None:
            if number in RESERVED.values() or not 0 < number <= MAX_TABLE:
                raise ValueError(f"{path} maps it to table {number}, one of the kernel's own")
            return number
    raise LookupError(f"no rt_tables file defines it ({', '.join(d + '/rt_tables' for d in config_dirs)}, "
                      "rt_tables.d/*.conf)")


def _table_files(config_dirs: tuple[str, ...]) -> list[str]:
    files = []
    for directory in config_dirs:
        files.append(os.path.join(directory, "rt_tables"))
        drop_ins = os.path.join(directory, "rt_tables.d")
        if os.path.isdir(drop_ins):
            files += [os.path.join(drop_ins, f) for f in sorted(os.listdir(drop_ins)) if f.endswith(".conf")]
    return files


def _names(path: str) -> dict[str, int]:
    """``NUMBER NAME`` lines of one file (``#`` comments; numbers decimal or 0x hex), as iproute2
    reads them; a missing or unreadable file defines nothing."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            text = lines.read()
    except OSError:
        return {}
    names: dict[str, int] = {}
    for line in text.splitlines():
        words = line.partition("#")[0].split()
        if len(words) < 2:
            continue
        try:
            number = int(words[0], 16) if words[0].lower().startswith("0x") else int(words[0], 10)
        except ValueError:
            continue
        names.setdefault(words[1], number)
    return names
