"""fer_pipeline.training (the package): every process that imports it computes with denormal floats flushed to zero,
because denormals made an Intel core's Adam steps several times slower."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import torch
import fer_pipeline.training  # noqa: F401 - the import is what sets the flag
torch.set_num_threads(2)
y = torch.full((2**22,), 1e-39) * 1.0   # split over both threads
print(int((y == 0).sum()), y.numel())
"""


def test_a_process_that_imports_training_flushes_denormals_on_every_thread():
    """In a fresh interpreter, after importing fer_pipeline.training, a product of denormals large enough to be split
    across two threads is zero in every element (without the flag it would be 1e-39 everywhere)."""
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True).stdout.split()
    zeros, total = map(int, out)
    assert total == 2**22 and zeros == total
