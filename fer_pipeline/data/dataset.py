"""The canonical data set every source is turned into, and its on-disk form (one .npz)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError, paths
from fer_pipeline.io import atomic_path, read_json

SPLITS = ("train", "test")


@dataclass(frozen=True)
class RawDataset:
    """uint8 images (N,48,48), class indices into CLASSES, original split, sub-split and file ids."""

    images: np.ndarray  # uint8 (N, 48, 48)
    labels: np.ndarray  # int64 (N,), index into CLASSES
    split: np.ndarray  # str (N,), "train" or "test"
    usage: np.ndarray  # str (N,), the source's own split name: Training/PublicTest/PrivateTest
    ids: np.ndarray  # str (N,), the source file (or CSV row) each image came from

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.dtype != np.uint8 or self.images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise FerError(f"images must be uint8 (N,{IMAGE_SIZE},{IMAGE_SIZE}), got {self.images.dtype} {self.images.shape}")
        for name in ("labels", "split", "usage", "ids"):
            if len(getattr(self, name)) != n:
                raise FerError(f"dataset field {name!r} has {len(getattr(self, name))} rows, images have {n}")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(CLASSES)):
            raise FerError("labels must be class indices 0..6")
        unknown = set(np.unique(self.split)) - set(SPLITS)
        if unknown:
            raise FerError(f"unknown split names {sorted(unknown)}; expected {SPLITS}")

    def __len__(self) -> int:
        return len(self.images)

    def mask(self, split: str) -> np.ndarray:
        """Boolean mask of the images in one original split."""
        return self.split == split

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per split and class, in CLASSES order."""
        return {
            s: {c: int(np.sum((self.split == s) & (self.labels == i))) for i, c in enumerate(CLASSES)}
            for s in SPLITS
        }


def concat(parts: list[RawDataset]) -> RawDataset:
    """Join data sets row-wise."""
    return RawDataset(
        images=np.concatenate([p.images for p in parts]).astype(np.uint8),
        labels=np.concatenate([p.labels for p in parts]).astype(np.int64),
        split=np.concatenate([p.split for p in parts]).astype(str),
        usage=np.concatenate([p.usage for p in parts]).astype(str),
        ids=np.concatenate([p.ids for p in parts]).astype(str),
    )


def save_dataset(ds: RawDataset, path: str | Path) -> None:
    """Write the data set to one uncompressed .npz, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, images=ds.images, labels=ds.labels, split=ds.split, usage=ds.usage, ids=ds.ids)


def load_dataset(path: str | Path) -> RawDataset:
    """Read a data set written by save_dataset."""
    with np.load(path, allow_pickle=False) as z:
        return RawDataset(**{k: z[k] for k in ("images", "labels", "split", "usage", "ids")})


def data_label(manifest: dict[str, Any] | None = None) -> str:
    """'FER2013' or the synthetic banner (from fetch's manifest), for every metrics file and plot title."""
    manifest = manifest if manifest is not None else read_json(paths.MANIFEST)
    return manifest["data"]
