"""Real-data checks on ../shared/data/fer2013/archive.zip (facts from ../shared/data/README.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from fer_pipeline import CLASSES
from fer_pipeline.data.dedup import find_duplicates
from fer_pipeline.data.preprocess import scale
from fer_pipeline.data.sources import read_archive, sha256_file
from fer_pipeline.data.split import train_valid_split
from fer_pipeline.params import load_params
from fer_pipeline.training.models import build_model
from fer_pipeline.training.seed import seed_everything
from fer_pipeline.training.train import fit

from .conftest import ROOT

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

TRAIN = {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "neutral": 4965, "sad": 4830, "surprise": 3171}
TEST = {"angry": 958, "disgust": 111, "fear": 1024, "happy": 1774, "neutral": 1233, "sad": 1247, "surprise": 831}
SHA256 = "631c97683d57e75fff96171d49c86e38c85f971cabd955df81f455b6dfdf838e"


@pytest.fixture(scope="module")
def real(real_archive):
    """The archive read once for this module."""
    return read_archive(real_archive)


def test_archive_identity(real_archive):
    """The archive is the documented copy (sha256), so the figures below are the right expectations."""
    assert sha256_file(real_archive) == SHA256


def test_counts_per_split_and_class(real):
    """fetch yields exactly 28,709 train and 7,178 test images with the documented per-class counts."""
    counts = real.counts()
    assert counts["train"] == TRAIN and counts["test"] == TEST
    assert real.images.shape == (28709 + 7178, 48, 48) and real.images.dtype == np.uint8
    assert list(CLASSES) == sorted(TRAIN)


def test_pixel_mean(real):
    """Pixel mean on the [0,1] scale over all images is 0.5074 +- 0.001 (std 0.2552 +- 0.001)."""
    x = real.images.astype(np.float64) / 255
    assert abs(x.mean() - 0.5074) <= 0.001
    assert abs(x.std() - 0.2552) <= 0.001


def test_duplicate_figures(real):
    """34,034 distinct images, 1,516 duplicate groups, 531 spanning splits, 568 test twins, 57 conflicting, 13 blank."""
    d = find_duplicates(real.images, real.labels, real.split).summary()
    assert d == {
        "distinct_images": 34034,
        "duplicate_groups": 1516,
        "cross_split_groups": 531,
        "test_images_with_train_twin": 568,
        "conflicting_label_groups": 57,
        "blank_images": 13,
    }


def test_training_smoke_beats_majority(real):
    """A few hundred MLP steps on real data reach a valid accuracy above the majority-class rate."""
    params = load_params(ROOT / "params.yaml")
    tp = dataclasses.replace(params.train, max_steps=800, max_epochs=2)  # the device is fit's argument
    dups = find_duplicates(real.images, real.labels, real.split)
    train_idx, valid_idx = train_valid_split(real.labels, dups.group, real.mask("train"), 0.2, 0)
    x = scale(real.images, {"normalize": "unit"})
    x = torch.from_numpy(x).reshape(-1, 1, 48, 48)
    y = torch.from_numpy(real.labels)
    data = {"x_train": x[train_idx], "y_train": y[train_idx], "x_valid": x[valid_idx], "y_valid": y[valid_idx]}
    gen = seed_everything(0)
    result = fit(build_model(params.model), data, tp, gen, torch.device("cpu"))
    majority = np.bincount(real.labels[valid_idx]).max() / len(valid_idx)
    assert result.steps == 800
    assert result.best_valid["accuracy"] > majority + 0.03, (result.best_valid, majority)
