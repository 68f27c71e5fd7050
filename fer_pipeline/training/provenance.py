"""What an audit of a result needs: device, threads, library versions, git commit."""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import version
from typing import Any

import torch


def git_commit() -> str | None:
    """The checked-out commit, or None outside a git repo."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def git_dirty() -> bool | None:
    """Whether the code that makes results (fer_pipeline/, stages/, dvc.yaml) differs from the commit.

    params.yaml and dvc.lock are recorded on their own; docs and tests do not change results.
    """
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "fer_pipeline", "stages", "dvc.yaml"],
                             capture_output=True, text=True, check=True, timeout=10)
        return bool(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None


def run_record(device: torch.device) -> dict[str, Any]:
    """Device, torch thread count, python and library versions, the git commit and whether the code differed from it."""
    return {
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {p: version(p) for p in ("torch", "numpy", "dvc", "dvclive")},  # the libraries a run imports
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
    }
