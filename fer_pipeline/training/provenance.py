"""What an audit of a result needs: device, threads, CPU and its kernel path, library versions, git commit."""

from __future__ import annotations

import os
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


# Environment variables that choose the CPU kernels torch, MKL and oneDNN run. The same code and params can give other
# numbers on another CPU (docs/reproducibility.md: Across CPUs); a run records which path it took.
KERNEL_ENV = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what platform reports."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def denormals() -> str:
    """"flush" when this thread computes denormal floats as zero (fer_pipeline.training sets it), else "keep": a
    tiny product, so it reports the state the run had, not the one the code meant to set."""
    return "flush" if (torch.tensor(1e-39) * 1.0).item() == 0.0 else "keep"


def cpu_record() -> dict[str, Any]:
    """The CPU a run trained on and the kernel path torch chose there: its model, ATen's CPU capability (the widest
    vector ISA its kernels use), the kernel-choosing variables that were set and whether denormals flushed."""
    return {"model": cpu_model(), "aten_capability": torch.backends.cpu.get_cpu_capability(),
            "kernel_env": {k: os.environ[k] for k in KERNEL_ENV if k in os.environ}, "denormals": denormals()}


def run_record(device: torch.device) -> dict[str, Any]:
    """Device, torch thread count, the CPU and its kernel path, python and library versions, the git commit and
    whether the code differed from it."""
    return {
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "cpu": cpu_record(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {p: version(p) for p in ("torch", "numpy", "dvc", "dvclive")},  # the libraries a run imports
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
    }
