"""Shared fixtures: the repo root and the real FER2013 archive (where present)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = Path(os.environ.get("FER2013_ARCHIVE", ROOT.parent / "shared" / "data" / "fer2013" / "archive.zip"))


@pytest.fixture(scope="session")
def real_archive() -> Path:
    """Path of the real archive.zip; skip (or fail, with FER_REQUIRE_REAL=1 as in CI) when absent."""
    if not ARCHIVE.is_file():
        msg = f"real FER2013 archive not found at {ARCHIVE} (set FER2013_ARCHIVE)"
        if os.environ.get("FER_REQUIRE_REAL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return ARCHIVE


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread per test: the tensors are tiny, and extra threads only add contention on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
