"""Stratified, seeded train/valid split of the training data that keeps duplicate copies together."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split


def train_valid_split(
    labels: np.ndarray, group: np.ndarray, train_mask: np.ndarray, valid_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into the full data set) of train and valid; test rows are never touched."""
    idx = np.flatnonzero(train_mask)
    # Unique images form their own group; copies of one image share the group of the first copy,
    # so no image sits on both sides (that would leak valid into train).
    key = np.where(group[idx] >= 0, group[idx], -1 - idx)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    reps = np.arange(len(first))
    rep_train, rep_valid = train_test_split(
        reps, test_size=valid_fraction, stratify=labels[idx][first], random_state=seed
    )
    in_valid = np.isin(inverse.ravel(), rep_valid)
    return np.sort(idx[~in_valid]), np.sort(idx[in_valid])
