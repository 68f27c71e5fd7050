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
    """Key of each image: equal pixel arrays share a key, different ones never do.

    Images are grouped by a 64-bit hash of their bytes (sorting 36k hashes, not 36k rows of 2,304 bytes: 10x
    faster), then every image that shares its hash is compared with its group's first (one alone with its hash
    equals no other image); only if some hash joins different arrays does the exact sort of whole rows decide."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    if flat.shape[1] % 8 == 0:
        words = flat.view(np.uint64)
        weights = np.random.default_rng(0).integers(1, 2**63, size=words.shape[1], dtype=np.uint64) | np.uint64(1)
        hashes = words @ weights  # integer matmul wraps: the sum of products mod 2**64, with no (N, 288) temporary
        _, first, inverse, sizes = np.unique(hashes, return_index=True, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        shared = np.flatnonzero(sizes[inverse] > 1)
        if np.array_equal(flat[shared], flat[first[inverse[shared]]]):
            return inverse
    rows = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    _, inverse = np.unique(rows, return_inverse=True)
    return inverse.ravel()


def pixel_std_below(images: np.ndarray, limit: float) -> np.ndarray:
    """Per uint8 image, whether its pixel std is below `limit`, from integer sums: n * sum(x^2) - sum(x)^2 < (n *
    limit)^2 is exact (no float rounding at the threshold) and avoids a float64 copy of the whole data set."""
    flat = images.reshape(len(images), -1)
    n = flat.shape[1]
    total = flat.sum(axis=1, dtype=np.int64)
    squares = np.einsum("ij,ij->i", flat, flat, dtype=np.int64, casting="unsafe")
    return n * squares - total * total < (n * limit) ** 2


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
    blank = pixel_std_below(images, BLANK_STD)
    return Duplicates(group, test_twin, blank, groups, int(len(sizes)), cross, conflicting)
