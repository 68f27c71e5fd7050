"""uint8 images -> normalized float32 arrays, with statistics taken from the training part only."""

from __future__ import annotations

import numpy as np


def normalize(images: np.ndarray, train_mask: np.ndarray, mode: str) -> tuple[np.ndarray, dict[str, float]]:
    """Scale to [0,1] (`unit`, the original study) or standardize with train-only mean/std."""
    x = images.astype(np.float32) / np.float32(255.0)
    if mode == "unit":
        return x, {"mean": 0.0, "std": 1.0}
    if mode != "standardize":
        raise ValueError(f"unknown normalize mode {mode!r}")
    # float64 accumulation: the float32 sum over ~66M pixels would drift in the 4th digit.
    mean = float(x[train_mask].mean(dtype=np.float64))
    std = float(x[train_mask].std(dtype=np.float64))
    return (x - np.float32(mean)) / np.float32(std), {"mean": mean, "std": std}
