"""fer_pipeline.data.fetch: manifest contents, exact pixel statistics, and the three files a fetch writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_pipeline import CLASSES, SYNTHETIC_BANNER, paths
from fer_pipeline.data.dataset import data_label
from fer_pipeline.data.fetch import fetch, pixel_stats, write_fetch
from fer_pipeline.params import DataParams, SyntheticParams


def test_pixel_stats_equal_float_computation():
    """Integer-sum statistics equal numpy's float64 mean/std on the [0,1] scale."""
    x = np.random.default_rng(1).integers(0, 256, (50, 48, 48), dtype=np.uint8)
    mean, std = pixel_stats(x)
    assert mean == pytest.approx((x / 255).mean(), abs=1e-12)
    assert std == pytest.approx((x / 255).std(), abs=1e-12)


def test_synthetic_fetch_manifest_and_files(tmp_path, monkeypatch):
    """A synthetic fetch says so in its manifest, counts every split and class, and writes dataset, duplicates, manifest."""
    monkeypatch.chdir(tmp_path)
    data = DataParams(source="synthetic", path="data/raw", synthetic=SyntheticParams(140, 35, 0, 0.05))
    ds, dups, manifest = fetch(data)
    assert manifest["data"] == SYNTHETIC_BANNER and manifest["synthetic"] is True and manifest["sha256"] is None
    assert sum(manifest["counts"]["train"].values()) == 140 and sum(manifest["counts"]["test"].values()) == 35
    assert list(manifest["counts"]["train"]) == list(CLASSES)
    assert manifest["duplicates"]["duplicate_groups"] == len(manifest["duplicate_groups"]) > 0
    assert len(manifest["cross_split_twins"]) == manifest["duplicates"]["test_images_with_train_twin"]
    write_fetch(ds, dups, manifest)
    assert json.loads(paths.MANIFEST.read_text()) == json.loads(json.dumps(manifest))
    assert data_label() == SYNTHETIC_BANNER
    with np.load(paths.DUPLICATES) as z:
        assert z["test_twin"].sum() == manifest["duplicates"]["test_images_with_train_twin"]
    with np.load(paths.DATASET) as z:
        assert z["images"].shape == (175, 48, 48)
