"""fetch's uint8 images, scaled as preprocess's normalization.json says -> in-memory torch tensors per split
(made once per stage, never per epoch)."""

from __future__ import annotations

import numpy as np
import torch

from fer_pipeline import IMAGE_SIZE, paths
from fer_pipeline.data.dataset import load_dataset
from fer_pipeline.data.preprocess import scale
from fer_pipeline.io import read_json


def load_split_tensors(parts: tuple[str, ...] = ("train", "valid")) -> dict[str, torch.Tensor]:
    """{x_<part>: float (N,1,48,48), y_<part>: int64 (N,)} for each named part of the split."""
    ds = load_dataset(paths.DATASET)
    norm = read_json(paths.NORMALIZATION)
    with np.load(paths.SPLIT) as index:
        split = {part: index[part] for part in parts}
    out: dict[str, torch.Tensor] = {}
    for part, idx in split.items():
        out[f"x_{part}"] = torch.from_numpy(scale(ds.images[idx], norm)).reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        out[f"y_{part}"] = torch.from_numpy(ds.labels[idx].astype(np.int64))
    return out
