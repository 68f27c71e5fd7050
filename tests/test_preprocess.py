"""fer_pipeline.data.preprocess and its stage: unit scaling is x/255 exactly; standardize uses the statistics of the
split's train rows only."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fer_pipeline import FerError, paths
from fer_pipeline.data import preprocess
from fer_pipeline.data.dataset import RawDataset, save_dataset
from fer_pipeline.data.preprocess import level_counts, normalization_stats, scale
from fer_pipeline.io import read_json
from stages import preprocess as preprocess_stage

from .conftest import ROOT

TRAIN = np.array([0, 1, 2, 3])  # the split's train rows; rows 4 and 5 are valid or test


def images_and_train():
    """6 random uint8 images and the indices of the 4 training rows among them."""
    return np.random.default_rng(0).integers(0, 256, (6, 48, 48), dtype=np.uint8), TRAIN


def standardized(images: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """(inputs, stats): the statistics of the train rows, applied by scale to every row, as the stages do."""
    stats = normalization_stats(images, train, "standardize")
    return scale(images, {"normalize": "standardize", **stats}), stats


def test_unit_is_divide_by_255():
    """unit: every value is x/255 in float32 (0 -> 0, 51 -> 0.2, 255 -> 1) with stats mean 0 std 1."""
    images = np.zeros((1, 48, 48), np.uint8)
    images[0, 0, :3] = [0, 51, 255]
    x = scale(images, {"normalize": "unit"})
    assert x.dtype == np.float32 and x.shape == (1, 48, 48)
    assert x[0, 0, 0] == 0.0 and x[0, 0, 1] == np.float32(0.2) and x[0, 0, 2] == 1.0
    assert normalization_stats(images, np.array([0]), "unit") == {"mean": 0.0, "std": 1.0}


def test_unit_all_levels():
    """unit maps each of the 256 levels to level/255 exactly."""
    images = np.resize(np.arange(256, dtype=np.uint8), (1, 48, 48))
    x = scale(images, {"normalize": "unit"})
    np.testing.assert_array_equal(x, images.astype(np.float32) / np.float32(255))
    assert x.min() == 0.0 and x.max() == 1.0


def test_unit_uses_no_statistics_of_any_split():
    """unit is x/255 per pixel: it computes no statistic (of the train rows or any other), so each row's output
    depends on that row alone and changing the other rows changes only their own outputs."""
    rng = np.random.default_rng(0)
    images = np.concatenate([rng.integers(0, 201, (4, 48, 48)), rng.integers(0, 101, (2, 48, 48))]).astype(np.uint8)
    # train max 200, the others max 100: a max/mean/std would show
    stats = normalization_stats(images, TRAIN, "unit")
    x = scale(images, {"normalize": "unit", **stats})
    np.testing.assert_array_equal(x, images.astype(np.float32) / np.float32(255))
    changed = images.copy()
    changed[4:] = 255
    stats2 = normalization_stats(changed, TRAIN, "unit")
    x2 = scale(changed, {"normalize": "unit", **stats2})
    np.testing.assert_array_equal(x2[TRAIN], x[TRAIN])
    np.testing.assert_array_equal(x2[4:], np.ones((2, 48, 48), np.float32))
    assert stats == stats2 == {"mean": 0.0, "std": 1.0}


def test_standardize_hand_computed():
    """standardize: mean/std of train pixels on the 0-1 scale; a quarter 1, the rest 0 -> 0.25, sqrt(0.1875)."""
    images = np.zeros((3, 48, 48), np.uint8)
    images[0, :24] = 255  # train image 0: top half 255; train image 1: all 0
    images[2] = 255  # a valid image: all 255 (would shift the mean if it counted)
    x, stats = standardized(images, np.array([0, 1]))
    # train pixels: 1152 of 255 and 3456 of 0 -> mean 0.25, std sqrt(0.25*0.75) = 0.4330127
    assert stats["mean"] == pytest.approx(0.25, abs=1e-12)
    assert stats["std"] == pytest.approx(np.sqrt(0.1875), abs=1e-12)
    assert x[1, 0, 0] == pytest.approx(-0.25 / np.sqrt(0.1875), abs=1e-6)
    assert x[2, 0, 0] == pytest.approx(0.75 / np.sqrt(0.1875), abs=1e-6)


def test_standardize_train_part_is_zero_mean_unit_std():
    """After standardize the training rows have mean 0 and std 1 (float tolerance)."""
    images, train = images_and_train()
    x, stats = standardized(images, train)
    assert x.dtype == np.float32
    assert abs(float(x[train].mean(dtype=np.float64))) < 1e-5
    assert float(x[train].std(dtype=np.float64)) == pytest.approx(1.0, abs=1e-5)
    assert 0 < stats["std"] < 1 and 0 < stats["mean"] < 1


def test_standardize_ignores_rows_outside_train():
    """Changing the rows outside `train` changes neither the statistics nor the standardized training rows;
    changing a training pixel does change them."""
    images, train = images_and_train()
    x1, s1 = standardized(images, train)
    changed = images.copy()
    changed[4:] = 255
    x2, s2 = standardized(changed, train)
    assert s1 == s2
    np.testing.assert_array_equal(x1[train], x2[train])
    changed[0, 0, 0] ^= 0xFF
    _, s3 = standardized(changed, train)
    assert s3 != s1


def test_unknown_mode():
    """An unknown normalize mode is an error."""
    images, train = images_and_train()
    with pytest.raises(ValueError, match="unknown normalize mode"):
        normalization_stats(images, train, "zscore")


def test_level_counts_exact_across_chunks(monkeypatch):
    """level_counts counts every pixel once, also when the pixels span several bincount chunks."""
    monkeypatch.setattr(preprocess, "CHUNK", 1000)  # 5 images = 11520 pixels: 12 chunks, the last one partial
    images, _ = images_and_train()
    counts = level_counts(images[:5])
    np.testing.assert_array_equal(counts, np.bincount(images[:5].ravel(), minlength=256))
    assert counts.dtype == np.int64 and counts.sum() == 5 * 48 * 48


def test_stats_are_those_of_the_scaled_float32_pixels():
    """standardize's mean and std are those of the float32 values scale makes (accumulated in float64), so the
    standardized training pixels have mean 0 and std 1 as the float64 statistics of those very values say."""
    images, train = images_and_train()
    stats = normalization_stats(images, train, "standardize")
    x = scale(images[train], {"normalize": "unit"}).astype(np.float64)
    assert stats["mean"] == pytest.approx(x.mean(), rel=1e-14)
    assert stats["std"] == pytest.approx(x.std(), rel=1e-14)


def test_scale_applies_the_stats_in_float32():
    """scale is (x/255 - float32(mean)) / float32(std), every step in float32, for any stats it is given."""
    images, _ = images_and_train()
    x = scale(images, {"normalize": "standardize", "mean": 0.3, "std": 0.2})
    expected = (images.astype(np.float32) / np.float32(255) - np.float32(0.3)) / np.float32(0.2)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, expected)
    with pytest.raises(ValueError, match="unknown normalize mode"):
        scale(images, {"normalize": "zscore", "mean": 0.0, "std": 1.0})


def test_standardize_without_training_images_is_an_error():
    """standardize with no training image has no statistics: a one-line error naming the key, not a division by 0."""
    images, _ = images_and_train()
    with pytest.raises(FerError, match=r"^preprocess\.normalize: standardize needs training images"):
        normalization_stats(images, np.array([], np.int64), "standardize")


def split_workspace(tmp_path, monkeypatch, mode: str, valid_level: int | None = None) -> tuple[RawDataset, dict]:
    """A folder with fetch's dataset.npz (300 train-folder rows, 60 test rows), a split of the train folder into
    240 train and 60 valid rows, and params.yaml; with valid_level, every valid pixel is set to that level."""
    tmp_path.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    n_train, n_test = 300, 60
    n = n_train + n_test
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    perm = rng.permutation(n_train)
    split = {"train": np.sort(perm[60:]), "valid": np.sort(perm[:60]), "test": np.arange(n_train, n)}
    if valid_level is not None:
        images[split["valid"]] = valid_level
    ds = RawDataset(images=images, labels=rng.integers(0, 7, n), split=np.array(["train"] * n_train + ["test"] * n_test),
                    usage=np.array(["Training"] * n_train + ["PublicTest"] * n_test), ids=np.array([f"{i}.jpg" for i in range(n)]))
    monkeypatch.chdir(tmp_path)
    save_dataset(ds, paths.DATASET)
    paths.SPLIT.parent.mkdir(parents=True)
    np.savez(paths.SPLIT, **split)
    (tmp_path / "params.yaml").write_text(f"preprocess:\n  normalize: {mode}\n")
    return ds, split


def test_stage_standardizes_on_the_split_train_rows_only(tmp_path, monkeypatch):
    """The preprocess stage's standardize statistics are the mean and std of the split's train rows (on the scale
    `scale` makes), whatever the valid rows hold: all-black or all-white valid rows give the same statistics,
    which differ from those of the whole Kaggle train folder."""
    written = {}
    for level in (0, 255):
        ds, split = split_workspace(tmp_path / str(level), monkeypatch, "standardize", valid_level=level)
        preprocess_stage.main([])
        written[level] = read_json(paths.NORMALIZATION)
    x = scale(ds.images[split["train"]], {"normalize": "unit"}).astype(np.float64)
    assert written[0] == written[255]
    assert written[0]["normalize"] == "standardize"
    assert written[0]["mean"] == pytest.approx(x.mean(), rel=1e-14)
    assert written[0]["std"] == pytest.approx(x.std(), rel=1e-14)
    folder = scale(ds.images[ds.mask("train")], {"normalize": "unit"}).astype(np.float64)  # valid rows 255 here
    assert folder.mean() > written[0]["mean"] + 0.05


def test_stage_unit_writes_the_fixed_normalization(tmp_path, monkeypatch):
    """For `unit` the stage writes mode unit, mean 0 and std 1, whatever the split holds."""
    split_workspace(tmp_path, monkeypatch, "unit", valid_level=255)
    preprocess_stage.main([])
    assert read_json(paths.NORMALIZATION) == {"normalize": "unit", "mean": 0.0, "std": 1.0}


def test_preprocess_stage_imports_no_heavy_library():
    """`import stages.preprocess` loads neither torch nor scikit-learn, scipy or pandas (each costs a second or more)."""
    code = "import sys, stages.preprocess; print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'torch', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
