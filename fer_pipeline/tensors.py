"""Preprocessed arrays -> in-memory torch tensors per split (decoded once, never per epoch)."""

from __future__ import annotations

import numpy as np
import torch

from fer_pipeline import IMAGE_SIZE, paths


def load_split_tensors(parts: tuple[str, ...] = ("train", "valid")) -> dict[str, torch.Tensor]:
    """{x_<part>: float (N,1,48,48), y_<part>: int64 (N,)} for each named part of the split."""
    images = np.load(paths.IMAGES, mmap_mode="r")
    labels = np.load(paths.LABELS)
    index = np.load(paths.SPLIT)
    out: dict[str, torch.Tensor] = {}
    for part in parts:
        idx = index[part]
        out[f"x_{part}"] = torch.from_numpy(np.ascontiguousarray(images[idx])).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        out[f"y_{part}"] = torch.from_numpy(labels[idx].astype(np.int64))
    return out
