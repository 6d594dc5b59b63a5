"""Command-line value types shared by the benchmarks: a bad value is refused by argparse with a
message quoting it (exit 2), before any namespace or server is made."""

from __future__ import annotations

import argparse


def counts(text: str) -> list[int]:
    """Comma-separated whole numbers above 0 (logical switch ports, runs); '' for none."""
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not all(w.isascii() and w.isdigit() and int(w) > 0 for w in words):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers above 0")
    return [int(w) for w in words]


def seconds(text: str) -> float:
    """A time of 0 seconds or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds of 0 or more")
    return value
