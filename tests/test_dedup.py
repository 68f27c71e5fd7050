"""fer_pipeline.data.dedup: exact duplicate groups, cross-split test twins, conflicting labels and blank images."""

from __future__ import annotations

import numpy as np

from fer_pipeline.data.dedup import find_duplicates, pixel_keys, pixel_std_below


def face(seed: int) -> np.ndarray:
    """A distinct noisy 48x48 uint8 image (pixel std far above the blank threshold)."""
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


# row: (image, label, split)
#  0,1  A  train  same label          -> group within train
#  2,3  B  train/test                 -> cross-split group; row 3 is a test twin
#  4,5  C  train, labels 2 and 3      -> conflicting group
#  6    blank (constant 128)          -> blank, unique
#  7    D  test                       -> unique
#  8,9  E  test, both test            -> group, but no twin (no copy in train)
#  10   F  train                      -> unique
#  11   near-blank (one pixel +1)     -> blank, unique
A, B, C, D, E, F = (face(s) for s in range(6))
BLANK = np.full((48, 48), 128, np.uint8)
NEAR_BLANK = BLANK.copy()
NEAR_BLANK[0, 0] = 129
IMAGES = np.stack([A, A, B, B, C, C, BLANK, D, E, E, F, NEAR_BLANK])
LABELS = np.array([0, 0, 1, 1, 2, 3, 4, 5, 6, 6, 0, 4])
SPLIT = np.array(["train", "train", "train", "test", "train", "train",
                  "train", "test", "test", "test", "train", "test"])


def test_pixel_keys_equal_iff_identical():
    """pixel_keys gives equal keys exactly to byte-identical images."""
    keys = pixel_keys(IMAGES)
    assert keys.shape == (12,)
    for i in range(12):
        for j in range(12):
            assert (keys[i] == keys[j]) == np.array_equal(IMAGES[i], IMAGES[j])


def test_groups_exact():
    """The four groups of identical images are found exactly, each as its sorted row indices."""
    d = find_duplicates(IMAGES, LABELS, SPLIT)
    assert sorted(d.groups) == [[0, 1], [2, 3], [4, 5], [8, 9]]


def test_group_ids():
    """Rows of one group share a group id >= 0; unique images get -1."""
    d = find_duplicates(IMAGES, LABELS, SPLIT)
    assert d.group.dtype == np.int64
    assert list(d.group[[6, 7, 10, 11]]) == [-1, -1, -1, -1]
    for a, b in ([0, 1], [2, 3], [4, 5], [8, 9]):
        assert d.group[a] == d.group[b] >= 0
    assert len({int(d.group[i]) for i in (0, 2, 4, 8)}) == 4


def test_test_twin_flags():
    """Only a test image with an exact copy in train is a twin; a test-only pair is not."""
    d = find_duplicates(IMAGES, LABELS, SPLIT)
    assert np.flatnonzero(d.test_twin).tolist() == [3]


def test_blank_flags():
    """Constant and near-constant images (pixel std < 1) are flagged blank, nothing else."""
    d = find_duplicates(IMAGES, LABELS, SPLIT)
    assert np.flatnonzero(d.blank).tolist() == [6, 11]


def test_counts_and_summary():
    """Distinct count and every summary figure match the hand count."""
    d = find_duplicates(IMAGES, LABELS, SPLIT)
    assert d.n_distinct == 8  # A B C blank D E F near-blank
    assert d.n_cross_split_groups == 1
    assert d.n_conflicting_groups == 1
    assert d.summary() == {
        "distinct_images": 8,
        "duplicate_groups": 4,
        "cross_split_groups": 1,
        "test_images_with_train_twin": 1,
        "conflicting_label_groups": 1,
        "blank_images": 2,
    }


def test_no_duplicates():
    """All-distinct images: no groups, all -1, distinct = N, no twins."""
    images = np.stack([face(s) for s in range(10, 15)])
    d = find_duplicates(images, np.zeros(5, np.int64), np.array(["train"] * 3 + ["test"] * 2))
    assert d.groups == [] and (d.group == -1).all() and d.n_distinct == 5
    assert not d.test_twin.any()


def test_test_twin_with_several_train_copies():
    """A group of three (two train, one test) is one cross-split group with one twin."""
    images = np.stack([A, A, A, B])
    d = find_duplicates(images, np.array([1, 1, 1, 2]), np.array(["train", "train", "test", "train"]))
    assert d.groups == [[0, 1, 2]]
    assert d.test_twin.tolist() == [False, False, True, False]
    assert d.summary()["cross_split_groups"] == 1 and d.summary()["conflicting_label_groups"] == 0


def test_pixel_std_below_matches_numpy_std():
    """The integer-sum test agrees with numpy's float std on either side of the threshold, including an image
    whose std is exactly the limit (not below it)."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (50, 48, 48), dtype=np.uint8)
    images[:10] = 100
    images[:10, 0, :2] = (99, 101)  # tiny spread
    exact = np.zeros((1, 2, 2), np.uint8)
    exact[0, 0] = 2  # pixels 2, 2, 0, 0: std exactly 1
    for limit in (1.0, 0.5, 40.0):
        want = images.reshape(50, -1).std(axis=1) < limit
        np.testing.assert_array_equal(pixel_std_below(images, limit), want)
    assert not pixel_std_below(exact, 1.0)[0] and pixel_std_below(exact, 1.01)[0]


def test_pixel_keys_survive_a_hash_collision(monkeypatch):
    """Keys stay exact when the hash joins different images: with every hash forced equal, distinct images still
    get distinct keys and copies share one (the exact row sort decides)."""
    real_unique = np.unique

    def colliding(values, **kw):
        if values.dtype == np.uint64:  # the hashes: pretend they are all equal
            values = np.zeros_like(values)
        return real_unique(values, **kw)

    monkeypatch.setattr(np, "unique", colliding)
    keys = pixel_keys(IMAGES)
    assert keys[0] == keys[1] and keys[2] == keys[3] and keys[0] != keys[2]
    assert len(set(keys.tolist())) == len({im.tobytes() for im in IMAGES})
