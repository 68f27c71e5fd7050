"""fer_pipeline.split: stratified, seeded train/valid split that keeps duplicate copies on one side."""

from __future__ import annotations

import numpy as np

from fer_pipeline.split import train_valid_split

TRAIN_PER_CLASS = (10, 20, 30, 40, 50, 60, 90)  # imbalanced, like FER2013


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


def test_train_valid_partition_all_train_rows():
    """train + valid together hold every train row exactly once, sorted, and no test row."""
    labels, group, train_mask = make_data(with_groups=True)
    tr, va = train_valid_split(labels, group, train_mask, 0.2, 0)
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)
    assert len(np.intersect1d(tr, va)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.flatnonzero(train_mask))
    assert train_mask[tr].all() and train_mask[va].all()


def test_stratified_per_class_fraction():
    """Without duplicates every class's valid share is its count * 0.2, to within one image."""
    labels, group, train_mask = make_data(with_groups=False)
    tr, va = train_valid_split(labels, group, train_mask, 0.2, 0)
    assert len(va) == 60
    for c, n in enumerate(TRAIN_PER_CLASS):
        n_valid = int(np.sum(labels[va] == c))
        assert abs(n_valid - 0.2 * n) <= 1, (c, n_valid, n)


def test_stratified_with_groups_roughly():
    """With duplicate groups the valid share per class stays near the requested fraction."""
    labels, group, train_mask = make_data(with_groups=True)
    tr, va = train_valid_split(labels, group, train_mask, 0.2, 0)
    assert abs(len(va) / 300 - 0.2) < 0.05
    for c, n in enumerate(TRAIN_PER_CLASS):
        assert abs(np.sum(labels[va] == c) / n - 0.2) <= 0.2


def test_same_seed_same_split_other_seed_differs():
    """The split is a function of the seed: same seed identical indices, another seed different ones."""
    labels, group, train_mask = make_data(with_groups=True)
    a = train_valid_split(labels, group, train_mask, 0.2, 0)
    b = train_valid_split(labels, group, train_mask, 0.2, 0)
    c = train_valid_split(labels, group, train_mask, 0.2, 1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


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
