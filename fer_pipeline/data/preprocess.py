"""uint8 images -> normalized float32 inputs: the statistics (from the split's train rows only) and the formula.

The preprocess stage runs after split and writes only the statistics (normalization.json), so validation and test
images never shape them; tensors.load_split_tensors applies `scale` to fetch's uint8 images when a stage loads
them, so no float copy of the data set is ever written to disk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from fer_pipeline import FerError, paths
from fer_pipeline.data.dataset import load_dataset
from fer_pipeline.io import write_json

CHUNK = 1 << 22  # pixels per bincount call: bounds its int64 temporary to 32 MiB


def level_counts(images: np.ndarray) -> np.ndarray:
    """How many pixels of uint8 `images` take each of the 256 levels (int64, exact)."""
    flat = images.reshape(-1)
    counts = np.zeros(256, np.int64)
    for start in range(0, flat.size, CHUNK):
        counts += np.bincount(flat[start:start + CHUNK], minlength=256)
    return counts


def normalization_stats(images: np.ndarray, train: np.ndarray, mode: str) -> dict[str, float]:
    """{"mean", "std"} that `scale` uses: 0 and 1 for `unit`; for `standardize` the mean and (population) std of
    the pixels of the rows `train` selects (the split's train indices, or a mask) on the 0-1 scale, i.e. of the
    float32 values `scale` makes, accumulated in float64.

    Computed from the 256 level counts, with exact sums (math.fsum), so no float copy of the images is made."""
    if mode == "unit":
        return {"mean": 0.0, "std": 1.0}
    if mode != "standardize":
        raise ValueError(f"unknown normalize mode {mode!r}")
    counts = level_counts(images[train])
    n = int(counts.sum())
    if n == 0:
        raise FerError("preprocess.normalize: standardize needs training images, and the split has none")
    levels = (np.arange(256, dtype=np.float32) / np.float32(255.0)).astype(np.float64)  # each level as scale makes it
    mean = math.fsum(counts * levels) / n  # each product is exact: count < 2**29, level has a 24-bit mantissa
    deviation = levels - mean
    std = math.sqrt(math.fsum(counts * (deviation * deviation)) / n)
    return {"mean": mean, "std": std}


def scale(images: np.ndarray, norm: Mapping[str, Any]) -> np.ndarray:
    """uint8 images -> float32 model inputs: x/255 (`unit`), then (x - mean)/std (`standardize`), all in float32,
    with `norm` as normalization.json holds it ({"normalize", "mean", "std"})."""
    x = images.astype(np.float32)
    x /= np.float32(255.0)
    if norm["normalize"] == "unit":
        return x
    if norm["normalize"] != "standardize":
        raise ValueError(f"unknown normalize mode {norm['normalize']!r}")
    x -= np.float32(norm["mean"])
    x /= np.float32(norm["std"])
    return x



def write_normalization(mode: str) -> str:
    """The preprocess stage: fetch's images and the split's train rows -> data/preprocess/normalization.json (how
    every stage scales the uint8 images); returns the line the stage prints."""
    ds = load_dataset(paths.DATASET)
    with np.load(paths.SPLIT) as index:
        train = index["train"]
    stats = normalization_stats(ds.images, train, mode)
    write_json(paths.NORMALIZATION, {"normalize": mode, **stats})
    return f"preprocess: {mode}, mean {stats['mean']:.4f}, std {stats['std']:.4f}"
