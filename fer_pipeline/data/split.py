"""Stratified, seeded train/valid split of the training data that keeps duplicate copies together."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from fer_pipeline import FerError, paths
from fer_pipeline.data.dataset import load_dataset
from fer_pipeline.io import atomic_path


def valid_counts(class_sizes: list[int], valid_fraction: float) -> list[int]:
    """How many of each class go to valid: round(valid_fraction * total) in all, each class the floor or the ceil of
    valid_fraction * its size (the largest remainders get the ceil; ties go to the lower class index).

    Exact rational arithmetic, so no float rounding can push a class outside [floor, ceil]."""
    f = Fraction(valid_fraction)
    ideal = [f * n for n in class_sizes]
    counts = [math.floor(x) for x in ideal]
    extra = math.floor(f * sum(class_sizes) + Fraction(1, 2)) - sum(counts)
    # 0 <= extra <= the number of classes with a remainder (the remainders sum to less than that count)
    for c in sorted(range(len(counts)), key=lambda c: counts[c] - ideal[c])[:extra]:
        counts[c] += 1
    return counts


def train_valid_split(
    labels: np.ndarray, group: np.ndarray, train_mask: np.ndarray, valid_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into the full data set) of train and valid; test rows are never touched.

    The unit drawn is a distinct image: copies of one image (same `group`, >= 0) move together and count once,
    under the label of their first copy. Per class, a seeded permutation of its distinct images puts the first
    valid_counts(...) of them in valid, so the valid share of every class is valid_fraction to within one image."""
    idx = np.flatnonzero(train_mask)
    # Unique images form their own group; copies of one image share the group of the first copy,
    # so no image sits on both sides (that would leak valid into train).
    key = np.where(group[idx] >= 0, group[idx], -1 - idx)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rep_labels = labels[idx][first]
    classes = np.unique(rep_labels)
    members = [np.flatnonzero(rep_labels == c) for c in classes]
    counts = valid_counts([len(m) for m in members], valid_fraction)
    n_valid = sum(counts)
    if n_valid == 0 or n_valid == len(first):
        side = "valid" if n_valid == 0 else "train"
        raise FerError(f"split.valid_fraction {valid_fraction} of {len(first)} distinct training images leaves {side} "
                       "empty; choose a fraction that puts at least one image on each side")
    rng = np.random.default_rng(seed)
    rep_valid = np.concatenate([rng.permutation(m)[:k] for m, k in zip(members, counts, strict=True)])
    in_valid = np.isin(inverse.ravel(), rep_valid)
    return np.sort(idx[~in_valid]), np.sort(idx[in_valid])


def write_split(valid_fraction: float, seed: int) -> str:
    """The split stage: fetch's data set and duplicate groups -> data/split/indices.npz (train, valid and test row
    indices); returns the line the stage prints."""
    ds = load_dataset(paths.DATASET)
    group = np.load(paths.DUPLICATES)["group"]
    train, valid = train_valid_split(ds.labels, group, ds.mask("train"), valid_fraction, seed)
    test = np.flatnonzero(ds.mask("test"))
    with atomic_path(paths.SPLIT) as tmp, open(tmp, "wb") as f:
        np.savez(f, train=train, valid=valid, test=test)
    return f"split: {len(train)} train, {len(valid)} valid, {len(test)} test (untouched until evaluate)"
