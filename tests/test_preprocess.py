"""fer_pipeline.preprocess: unit scaling is x/255 exactly; standardize uses training statistics only."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fer_pipeline import FerError, preprocess
from fer_pipeline.preprocess import level_counts, normalization_stats, normalize, scale

from .conftest import ROOT


def images_and_mask():
    """6 random uint8 images; the first 4 are training rows."""
    images = np.random.default_rng(0).integers(0, 256, (6, 48, 48), dtype=np.uint8)
    return images, np.array([True, True, True, True, False, False])


def test_unit_is_divide_by_255():
    """unit: every value is x/255 in float32 (0 -> 0, 51 -> 0.2, 255 -> 1) with stats mean 0 std 1."""
    images = np.zeros((1, 48, 48), np.uint8)
    images[0, 0, :3] = [0, 51, 255]
    x, stats = normalize(images, np.array([True]), "unit")
    assert x.dtype == np.float32 and x.shape == (1, 48, 48)
    assert x[0, 0, 0] == 0.0 and x[0, 0, 1] == np.float32(0.2) and x[0, 0, 2] == 1.0
    assert stats == {"mean": 0.0, "std": 1.0}


def test_unit_all_levels():
    """unit maps each of the 256 levels to level/255 exactly."""
    images = np.resize(np.arange(256, dtype=np.uint8), (1, 48, 48))
    x, _ = normalize(images, np.array([True]), "unit")
    np.testing.assert_array_equal(x, images.astype(np.float32) / np.float32(255))
    assert x.min() == 0.0 and x.max() == 1.0


def test_unit_uses_no_statistics_of_any_split():
    """unit is x/255 per pixel: it computes no statistic (of the train rows or any other), so each row's output
    depends on that row alone and changing the test images changes only their own rows."""
    rng = np.random.default_rng(0)
    images = np.concatenate([rng.integers(0, 201, (4, 48, 48)), rng.integers(0, 101, (2, 48, 48))]).astype(np.uint8)
    mask = np.array([True, True, True, True, False, False])  # train max 200, test max 100: a max/mean/std would show
    x, stats = normalize(images, mask, "unit")
    np.testing.assert_array_equal(x, images.astype(np.float32) / np.float32(255))
    changed = images.copy()
    changed[~mask] = 255
    x2, stats2 = normalize(changed, mask, "unit")
    np.testing.assert_array_equal(x2[mask], x[mask])
    np.testing.assert_array_equal(x2[~mask], np.ones((2, 48, 48), np.float32))
    assert stats == stats2 == {"mean": 0.0, "std": 1.0}


def test_standardize_hand_computed():
    """standardize: mean/std of train pixels on the 0-1 scale; a quarter 1, the rest 0 -> 0.25, sqrt(0.1875)."""
    images = np.zeros((3, 48, 48), np.uint8)
    images[0, :24] = 255  # train image 0: top half 255; train image 1: all 0
    images[2] = 255  # test image: all 255 (would shift the mean if it counted)
    x, stats = normalize(images, np.array([True, True, False]), "standardize")
    # train pixels: 1152 of 255 and 3456 of 0 -> mean 0.25, std sqrt(0.25*0.75) = 0.4330127
    assert stats["mean"] == pytest.approx(0.25, abs=1e-12)
    assert stats["std"] == pytest.approx(np.sqrt(0.1875), abs=1e-12)
    assert x[1, 0, 0] == pytest.approx(-0.25 / np.sqrt(0.1875), abs=1e-6)
    assert x[2, 0, 0] == pytest.approx(0.75 / np.sqrt(0.1875), abs=1e-6)


def test_standardize_train_part_is_zero_mean_unit_std():
    """After standardize the training rows have mean 0 and std 1 (float tolerance)."""
    images, mask = images_and_mask()
    x, stats = normalize(images, mask, "standardize")
    assert x.dtype == np.float32
    assert abs(float(x[mask].mean(dtype=np.float64))) < 1e-5
    assert float(x[mask].std(dtype=np.float64)) == pytest.approx(1.0, abs=1e-5)
    assert 0 < stats["std"] < 1 and 0 < stats["mean"] < 1


def test_standardize_ignores_test_images():
    """Changing test images changes neither the statistics nor the standardized training rows."""
    images, mask = images_and_mask()
    x1, s1 = normalize(images, mask, "standardize")
    changed = images.copy()
    changed[~mask] = 255
    x2, s2 = normalize(changed, mask, "standardize")
    assert s1 == s2
    np.testing.assert_array_equal(x1[mask], x2[mask])
    changed[0, 0, 0] ^= 0xFF  # a training pixel does change them
    _, s3 = normalize(changed, mask, "standardize")
    assert s3 != s1


def test_unknown_mode():
    """An unknown normalize mode is an error."""
    images, mask = images_and_mask()
    with pytest.raises(ValueError, match="unknown normalize mode"):
        normalize(images, mask, "zscore")


def test_level_counts_exact_across_chunks(monkeypatch):
    """level_counts counts every pixel once, also when the pixels span several bincount chunks."""
    monkeypatch.setattr(preprocess, "CHUNK", 1000)  # 5 images = 11520 pixels: 12 chunks, the last one partial
    images, _ = images_and_mask()
    counts = level_counts(images[:5])
    np.testing.assert_array_equal(counts, np.bincount(images[:5].ravel(), minlength=256))
    assert counts.dtype == np.int64 and counts.sum() == 5 * 48 * 48


def test_stats_are_those_of_the_scaled_float32_pixels():
    """standardize's mean and std are those of the float32 values scale makes (accumulated in float64), so the
    standardized training pixels have mean 0 and std 1 as the float64 statistics of those very values say."""
    images, mask = images_and_mask()
    stats = normalization_stats(images, mask, "standardize")
    x = scale(images[mask], {"normalize": "unit"}).astype(np.float64)
    assert stats["mean"] == pytest.approx(x.mean(), rel=1e-14)
    assert stats["std"] == pytest.approx(x.std(), rel=1e-14)


def test_scale_applies_the_stats_in_float32():
    """scale is (x/255 - float32(mean)) / float32(std), every step in float32, for any stats it is given."""
    images, _ = images_and_mask()
    x = scale(images, {"normalize": "standardize", "mean": 0.3, "std": 0.2})
    expected = (images.astype(np.float32) / np.float32(255) - np.float32(0.3)) / np.float32(0.2)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, expected)
    with pytest.raises(ValueError, match="unknown normalize mode"):
        scale(images, {"normalize": "zscore", "mean": 0.0, "std": 1.0})


def test_standardize_without_training_images_is_an_error():
    """standardize with no training image has no statistics: a one-line error naming the key, not a division by 0."""
    images, _ = images_and_mask()
    with pytest.raises(FerError, match=r"^preprocess\.normalize: standardize needs training images"):
        normalization_stats(images, np.zeros(6, bool), "standardize")


def test_preprocess_stage_imports_no_heavy_library():
    """`import stages.preprocess` loads neither torch nor scikit-learn, scipy or pandas (each costs a second or more)."""
    code = "import sys, stages.preprocess; print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'torch', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
