"""Tests for the synthetic FER2013 stand-in: determinism, FER-like layout, duplicates, learnable classes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifier

from fer_pipeline import CLASSES, IMAGE_SIZE, FerError
from fer_pipeline.data.dataset import RawDataset
from fer_pipeline.data.synthetic import FER_TEST_COUNTS, FER_TRAIN_COUNTS, allocate, generate

N_TRAIN, N_TEST = 1500, 500


@pytest.fixture(scope="module")
def ds() -> RawDataset:
    """One shared data set (about 0.3 s to draw) for the tests that only read it."""
    return generate(N_TRAIN, N_TEST, seed=0)


@pytest.fixture(scope="module")
def means(ds: RawDataset) -> dict[str, np.ndarray]:
    """Mean image per class after per-image standardisation, so lighting does not dominate."""
    x = ds.images.astype(np.float32)
    z = (x - x.mean(axis=(1, 2), keepdims=True)) / (x.std(axis=(1, 2), keepdims=True) + 1e-9)
    return {c: z[ds.labels == i].mean(axis=0) for i, c in enumerate(CLASSES)}


def _dark_row(mean_image: np.ndarray, rows: slice, cols: np.ndarray) -> float:
    """Row centroid of the darkness above its median in a window: where the drawn stroke sits."""
    darkness = -mean_image[rows][:, cols].mean(axis=1)
    weight = np.maximum(darkness - np.median(darkness), 0.0)
    return float((weight * np.arange(rows.start, rows.stop)).sum() / weight.sum())


def test_same_seed_is_byte_identical_and_other_seed_differs() -> None:
    """Same arguments give byte-identical arrays; a different seed gives different images."""
    a, b, c = generate(60, 20, seed=3), generate(60, 20, seed=3), generate(60, 20, seed=4)
    for field in ("images", "labels", "split", "usage", "ids"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.images.tobytes() == b.images.tobytes()
    assert not np.array_equal(a.images, c.images)


def test_split_sizes_exact_and_class_shares_follow_fer2013(ds: RawDataset) -> None:
    """Train rows come first, split sizes are exact, every class is present at FER2013's share (+-1)."""
    assert list(ds.split[:N_TRAIN]) == ["train"] * N_TRAIN
    assert list(ds.split[N_TRAIN:]) == ["test"] * N_TEST
    counts = ds.counts()
    for split, n, fer in (("train", N_TRAIN, FER_TRAIN_COUNTS), ("test", N_TEST, FER_TEST_COUNTS)):
        got = np.array([counts[split][c] for c in CLASSES])
        assert got.sum() == n
        assert (got >= 1).all()
        expected = n * np.asarray(fer) / sum(fer)
        assert np.all(np.abs(got - expected) < 1.0), (split, got, expected)


def test_allocation_sums_exactly_and_gives_every_class_one_from_seven() -> None:
    """Largest-remainder allocation sums to n; from n = 7 up no class is left empty."""
    for n in (1, 6, 7, 8, 13, 50, 101, 28709):
        alloc = allocate(n, FER_TRAIN_COUNTS)
        assert alloc.sum() == n
        if n >= len(CLASSES):
            assert (alloc >= 1).all(), (n, alloc)
    tiny = generate(7, 7, seed=1)
    assert set(tiny.labels[:7]) == set(range(len(CLASSES))) == set(tiny.labels[7:])


def test_dtypes_shapes_range_usage_and_unique_ids(ds: RawDataset) -> None:
    """uint8 (N,48,48) images spanning a wide grey range, int64 labels, FER usage names, unique ids."""
    n = N_TRAIN + N_TEST
    assert ds.images.dtype == np.uint8 and ds.images.shape == (n, IMAGE_SIZE, IMAGE_SIZE)
    assert ds.labels.dtype == np.int64 and ds.labels.min() >= 0 and ds.labels.max() < len(CLASSES)
    assert ds.images.min() < 20 and ds.images.max() > 235
    assert set(ds.usage[:N_TRAIN]) == {"Training"}
    assert list(ds.usage[N_TRAIN : N_TRAIN + 4]) == ["PublicTest", "PrivateTest", "PublicTest", "PrivateTest"]
    assert len(set(ds.ids)) == n
    assert ds.ids[0] == "synthetic/train/00001" and ds.ids[N_TRAIN] == "synthetic/test/00001"


def test_duplicates_exist_cross_splits_and_some_conflict(ds: RawDataset) -> None:
    """round(fraction*N) rows are exact copies; some groups span train and test, some disagree on label."""
    n = N_TRAIN + N_TEST
    _, group, sizes = np.unique(ds.images.reshape(n, -1), axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    assert n - len(sizes) == round(0.01 * n)  # every copy is of an untouched original
    dup_groups = np.flatnonzero(sizes > 1)
    crossing = [g for g in dup_groups if set(ds.split[group == g]) == {"train", "test"}]
    conflicting = [g for g in dup_groups if len(set(ds.labels[group == g])) > 1]
    assert crossing and conflicting
    assert len(conflicting) < len(dup_groups) / 2  # most copies keep their source's label
    clean = generate(200, 50, seed=0, duplicate_fraction=0.0)
    assert len(np.unique(clean.images.reshape(250, -1), axis=0)) == 250


def test_classes_are_learnable_by_a_linear_model(ds: RawDataset) -> None:
    """A ridge classifier on 2x2-pooled standardised pixels clearly beats the majority class."""
    x = ds.images.astype(np.float32).reshape(-1, 24, 2, 24, 2).mean(axis=(2, 4)).reshape(len(ds), -1)
    x = (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-6)
    train, test = ds.mask("train"), ds.mask("test")
    acc = RidgeClassifier(alpha=10.0).fit(x[train], ds.labels[train]).score(x[test], ds.labels[test])
    majority = np.bincount(ds.labels[test]).max() / test.sum()
    assert majority < 0.3
    assert acc > 0.5, acc  # about 0.59 at seed 0; a small MLP on more data reaches about 0.77


def test_happy_mouth_corners_are_up_and_sad_corners_down(means: dict[str, np.ndarray]) -> None:
    """In the class means, happy's mouth corners sit above its mouth centre and far above sad's corners."""
    rows, corners, centre = slice(28, 42), np.r_[15:19, 29:33], np.r_[22:26]
    lift = {c: _dark_row(means[c], rows, centre) - _dark_row(means[c], rows, corners) for c in ("happy", "sad")}
    assert lift["happy"] > 0.3 and lift["sad"] < -0.3, lift  # rows grow downwards
    assert _dark_row(means["happy"], rows, corners) < _dark_row(means["sad"], rows, corners) - 2.0


def test_angry_brows_form_a_v_and_sad_brows_an_inverted_v(means: dict[str, np.ndarray]) -> None:
    """Angry's inner brow ends sit below its outer ends (V); sad's sit above them (inverted V)."""
    rows, inner, outer = slice(6, 20), np.r_[19:22, 26:29], np.r_[13:16, 32:35]
    tilt = {c: _dark_row(means[c], rows, inner) - _dark_row(means[c], rows, outer) for c in ("angry", "sad")}
    assert tilt["angry"] > 0.5 and tilt["sad"] < -0.5, tilt  # rows grow downwards


def test_surprise_and_fear_open_the_mouth(means: dict[str, np.ndarray]) -> None:
    """The mouth centre is darker (open) for surprise and fear than for neutral's closed mouth."""
    dark = {c: -means[c][31:38, 21:27].mean() for c in ("surprise", "fear", "neutral")}
    assert dark["surprise"] > dark["neutral"] + 0.5, dark
    assert dark["fear"] > dark["neutral"] + 0.3, dark


@pytest.mark.parametrize(
    "n_train, n_test, fraction",
    [(0, 10, 0.01), (10, 0, 0.01), (-3, 10, 0.01), (10, 10, -0.01), (10, 10, 0.51)],
)
def test_bad_arguments_raise_fer_error(n_train: int, n_test: int, fraction: float) -> None:
    """Empty splits and duplicate fractions outside [0, 0.5] are user errors (FerError)."""
    with pytest.raises(FerError):
        generate(n_train, n_test, seed=0, duplicate_fraction=fraction)
