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


def run_record(device: torch.device) -> dict[str, Any]:
    """Device, torch thread count, python and library versions, and the git commit."""
    return {
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {p: version(p) for p in ("torch", "numpy", "scikit-learn", "dvc", "dvclive")},
        "git_commit": git_commit(),
    }
