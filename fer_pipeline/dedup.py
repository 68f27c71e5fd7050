"""Exact-duplicate bookkeeping: duplicate groups, cross-split twins, conflicting labels, blanks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLANK_STD = 1.0  # an image whose pixel std is below this (on 0-255) carries no face


@dataclass(frozen=True)
class Duplicates:
    """Per-image group ids plus the summary figures the manifest reports."""

    group: np.ndarray  # int64 (N,): id shared by byte-identical images; -1 for unique images
    test_twin: np.ndarray  # bool (N,): a test image with an exact copy in train
    blank: np.ndarray  # bool (N,): near-constant image
    groups: list[list[int]]  # indices of each group of >= 2 identical images
    n_distinct: int
    n_cross_split_groups: int
    n_conflicting_groups: int

    def summary(self) -> dict[str, int]:
        """The figures for the manifest."""
        return {
            "distinct_images": self.n_distinct,
            "duplicate_groups": len(self.groups),
            "cross_split_groups": self.n_cross_split_groups,
            "test_images_with_train_twin": int(self.test_twin.sum()),
            "conflicting_label_groups": self.n_conflicting_groups,
            "blank_images": int(self.blank.sum()),
        }


def pixel_keys(images: np.ndarray) -> np.ndarray:
    """Inverse index of each image among the distinct pixel arrays (equal arrays share a key)."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    rows = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    _, inverse = np.unique(rows, return_inverse=True)
    return inverse.ravel()


def find_duplicates(images: np.ndarray, labels: np.ndarray, split: np.ndarray) -> Duplicates:
    """Group byte-identical images and flag test images that also occur in train."""
    keys = pixel_keys(images)
    sizes = np.bincount(keys)
    group = np.where(sizes[keys] > 1, keys, -1).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.diff(keys[order])) + 1
    groups = [g.tolist() for g in np.split(order, bounds) if len(g) > 1]
    cross = conflicting = 0
    train_keys = set(keys[split == "train"].tolist())
    for g in groups:
        cross += len(set(split[g].tolist())) > 1
        conflicting += len(set(labels[g].tolist())) > 1
    test_twin = (split == "test") & np.isin(keys, list(train_keys))
    blank = images.reshape(len(images), -1).std(axis=1) < BLANK_STD
    return Duplicates(group, test_twin, blank, groups, int(len(sizes)), cross, conflicting)
