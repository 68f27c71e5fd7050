"""The fetch stage's work: read the chosen source, find duplicates, describe it all in a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fer_pipeline import CLASSES, SYNTHETIC_BANNER, paths
from fer_pipeline.data.dataset import RawDataset, save_dataset
from fer_pipeline.data.dedup import Duplicates, find_duplicates
from fer_pipeline.data.sources import read_source, resolve_source, sha256_file
from fer_pipeline.io import atomic_path, write_json
from fer_pipeline.params import DataParams


def pixel_stats(images: np.ndarray) -> tuple[float, float]:
    """Mean and std of all pixels on the [0,1] scale, from exact integer sums (no float copy of the data; half the
    time of counting levels, as one einsum pass casts in small buffers)."""
    flat = images.reshape(-1)
    n, total = flat.size, int(flat.sum(dtype=np.int64))
    squares = int(np.einsum("i,i->", flat, flat, dtype=np.int64, casting="unsafe"))
    mean = total / n
    return mean / 255.0, float(np.sqrt(max(squares / n - mean * mean, 0.0))) / 255.0


def build_manifest(ds: RawDataset, dups: Duplicates, kind: str, path: Path | None, data: DataParams) -> dict[str, Any]:
    """Source, counts per split and class, sha256, pixel statistics and duplicate figures."""
    synthetic = kind == "synthetic"
    mean, std = pixel_stats(ds.images)
    return {
        "data": SYNTHETIC_BANNER if synthetic else "FER2013",
        "synthetic": synthetic,
        "source": kind,
        "path": str(path) if path is not None else None,
        "sha256": sha256_file(path) if path is not None and path.is_file() else None,
        "synthetic_params": vars(data.synthetic) if synthetic else None,
        "classes": list(CLASSES),
        "images": len(ds),
        "counts": ds.counts(),
        "usage": {u: int(n) for u, n in zip(*np.unique(ds.usage, return_counts=True), strict=True)},
        "pixel_mean": mean,
        "pixel_std": std,
        "duplicates": dups.summary(),
        "duplicate_groups": [[str(ds.ids[i]) for i in g] for g in dups.groups],
        "cross_split_twins": [str(i) for i in ds.ids[dups.test_twin]],
        "blank_images": [str(i) for i in ds.ids[dups.blank]],
    }


def fetch(data: DataParams) -> tuple[RawDataset, Duplicates, dict[str, Any]]:
    """Resolve and read the source; return the data set, its duplicates and its manifest."""
    kind, path = resolve_source(data)
    ds = read_source(kind, path, data)
    dups = find_duplicates(ds.images, ds.labels, ds.split)
    return ds, dups, build_manifest(ds, dups, kind, path, data)


def write_fetch(ds: RawDataset, dups: Duplicates, manifest: dict[str, Any]) -> None:
    """Write dataset, duplicate flags and manifest (manifest last: it marks a complete fetch)."""
    save_dataset(ds, paths.DATASET)
    with atomic_path(paths.DUPLICATES) as tmp, open(tmp, "wb") as f:
        np.savez(f, group=dups.group, test_twin=dups.test_twin, blank=dups.blank)
    write_json(paths.MANIFEST, manifest)
