"""fer_pipeline.data.split: stratified, seeded train/valid split that keeps duplicate copies on one side."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from fer_pipeline import FerError
from fer_pipeline.data.split import train_valid_split, valid_counts

from .conftest import ROOT

TRAIN_PER_CLASS = (10, 20, 30, 40, 50, 60, 90)  # imbalanced, like FER2013
FRACTIONS = (0.2, 0.1, 0.25, 0.3, 0.7, 1 / 3)
SEEDS = (0, 1, 7)


def make_data(with_groups: bool):
    """Labels, duplicate group ids and train mask: 300 train rows (shuffled), 70 test rows after them."""
    rng = np.random.default_rng(123)
    train_labels = rng.permutation(np.repeat(np.arange(7), TRAIN_PER_CLASS))
    test_labels = np.repeat(np.arange(7), 10)
    labels = np.concatenate([train_labels, test_labels]).astype(np.int64)
    train_mask = np.arange(len(labels)) < len(train_labels)
    group = np.full(len(labels), -1, np.int64)
    if with_groups:
        # 20 groups of 2-4 train copies each, plus one group spanning train and test.
        free = rng.permutation(np.flatnonzero(train_mask))
        pos = 0
        for g in range(20):
            size = 2 + g % 3
            group[free[pos:pos + size]] = g
            pos += size
        group[free[pos]] = 99
        group[300] = 99  # a test row in the same group
    return labels, group, train_mask


def distinct_images(labels, group, train_mask) -> list[tuple[np.ndarray, int]]:
    """The unit the split draws, worked out independently: (train rows, label of the first copy) per distinct image."""
    units: dict[int, list[int]] = {}
    for i in np.flatnonzero(train_mask):
        units.setdefault(int(group[i]) if group[i] >= 0 else -1 - int(i), []).append(int(i))
    return [(np.array(rows), int(labels[rows[0]])) for rows in units.values()]


@pytest.mark.parametrize("with_groups", [False, True])
def test_stratified_per_class_within_one_image(with_groups):
    """Rule: per class, the valid set holds valid_fraction of that class's distinct training images to within one
    image (copies of one image count once, under their first copy's label), and valid_fraction of all of them
    rounded to the nearest image in total; for several fractions and seeds."""
    labels, group, train_mask = make_data(with_groups)
    units = distinct_images(labels, group, train_mask)
    for fraction in FRACTIONS:
        for seed in SEEDS:
            _, va = train_valid_split(labels, group, train_mask, fraction, seed)
            in_valid = [bool(np.isin(rows, va).all()) for rows, _ in units]
            assert sum(in_valid) == round(Fraction(fraction) * len(units)), (fraction, seed)
            for c in range(7):
                total = sum(1 for _, label in units if label == c)
                valid = sum(1 for (_, label), v in zip(units, in_valid, strict=True) if label == c and v)
                assert abs(valid - Fraction(fraction) * total) < 1, (fraction, seed, c, valid, total)


def test_valid_counts_floor_or_ceil_and_total_rounded():
    """Rule: each class gets the floor or the ceil of fraction * its size, the total is fraction * all rounded to the
    nearest integer, and the ceils go to the largest remainders."""
    assert valid_counts([10, 20, 30], 0.2) == [2, 4, 6]
    assert valid_counts([3, 3, 3], 0.5) == [2, 2, 1]  # 4.5 -> 5 in total (Fraction(0.5) is exact: half up)
    assert valid_counts([1, 4, 9], 0.3) == [0, 1, 3]  # ideal 0.3, 1.2, 2.7: total round(4.2) = 4, the ceil to 2.7
    rng = np.random.default_rng(0)
    for _ in range(200):
        sizes = [int(n) for n in rng.integers(0, 500, rng.integers(1, 9))]
        f = float(rng.uniform(0.01, 0.99))
        counts = valid_counts(sizes, f)
        ideal = [Fraction(f) * n for n in sizes]
        assert all(abs(k - x) < 1 for k, x in zip(counts, ideal, strict=True)), (sizes, f, counts)
        assert sum(counts) == int(Fraction(f) * sum(sizes) + Fraction(1, 2)), (sizes, f, counts)


def test_same_seed_same_split_other_seed_differs():
    """Rule: the split is a function of the seed: the same seed gives identical indices, another seed other ones."""
    labels, group, train_mask = make_data(with_groups=True)
    a = train_valid_split(labels, group, train_mask, 0.2, 0)
    b = train_valid_split(labels, group, train_mask, 0.2, 0)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for seed in (1, 2, 12345):
        c = train_valid_split(labels, group, train_mask, 0.2, seed)
        assert not np.array_equal(a[1], c[1]), seed


def test_no_index_in_two_sets():
    """Rule: no row index is in two of train, valid and test (test = the stage's rows of the original test split)."""
    labels, group, train_mask = make_data(with_groups=True)
    test = np.flatnonzero(~train_mask)
    for seed in SEEDS:
        tr, va = train_valid_split(labels, group, train_mask, 0.2, seed)
        assert len(np.unique(tr)) == len(tr) and len(np.unique(va)) == len(va)
        for a, b in ((tr, va), (tr, test), (va, test)):
            assert len(np.intersect1d(a, b)) == 0, seed


def test_every_train_image_in_train_or_valid():
    """Rule: train and valid together are exactly the original train rows, each once, sorted."""
    labels, group, train_mask = make_data(with_groups=True)
    for seed in SEEDS:
        tr, va = train_valid_split(labels, group, train_mask, 0.2, seed)
        assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.flatnonzero(train_mask))


def test_duplicate_groups_never_straddle():
    """All train copies of one image land on the same side, for several seeds."""
    labels, group, train_mask = make_data(with_groups=True)
    for seed in range(5):
        tr, va = train_valid_split(labels, group, train_mask, 0.2, seed)
        for g in np.unique(group[group >= 0]):
            members = np.flatnonzero((group == g) & train_mask)
            assert np.isin(members, tr).all() or np.isin(members, va).all(), (seed, g)


def test_test_rows_never_returned():
    """Test rows (including a test copy of a train image) are in neither part."""
    labels, group, train_mask = make_data(with_groups=True)
    tr, va = train_valid_split(labels, group, train_mask, 0.3, 7)
    returned = np.concatenate([tr, va])
    assert not np.isin(np.flatnonzero(~train_mask), returned).any()
    assert 300 not in returned


def test_train_mask_not_prefix():
    """Train rows interleaved with test rows are handled by index, not position."""
    labels = np.tile(np.arange(7), 20)  # 140 rows
    train_mask = np.arange(140) % 4 != 0
    group = np.full(140, -1)
    tr, va = train_valid_split(labels, group, train_mask, 0.25, 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.flatnonzero(train_mask))


def test_class_with_one_image():
    """A class with a single distinct image is split like any other (floor or ceil of its share), not an error."""
    labels = np.array([0] * 40 + [1])
    tr, va = train_valid_split(labels, np.full(41, -1), np.ones(41, bool), 0.2, 0)
    assert len(va) == 8 and 40 not in va  # 0.2 * 41 = 8.2 -> 8: class 0 has 8.0, class 1 0.2 -> floor 0


@pytest.mark.parametrize(("fraction", "side"), [(0.01, "valid"), (0.99, "train")])
def test_empty_side_is_a_one_line_error_naming_the_key(fraction, side):
    """A fraction that leaves valid or train empty on this data stops with an error naming split.valid_fraction."""
    labels = np.arange(7)
    with pytest.raises(FerError, match=rf"^split\.valid_fraction {fraction} of 7 distinct training images leaves {side} empty"):
        train_valid_split(labels, np.full(7, -1), np.ones(7, bool), fraction, 0)


def test_split_stage_imports_no_heavy_library():
    """`import stages.split` loads neither scikit-learn nor scipy, torch or pandas (each costs a second or more)."""
    code = "import sys, stages.split; print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'torch', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
