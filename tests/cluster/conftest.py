"""The session's lab pool (see lab_pool.py): taken down at the end, whatever happened."""

from __future__ import annotations

from typing import Iterator

import pytest
from lab_pool import LabPool, why_no_lab


@pytest.fixture(scope="session")
def lab_pool() -> Iterator[LabPool]:
    reason = why_no_lab()
    if reason:
        pytest.skip(reason)
    pool = LabPool()
    try:
        yield pool
    finally:
        pool.drop()
