"""fer_pipeline.data.tensors: the preprocess stage stores only the normalization; load_split_tensors applies it to fetch's
uint8 images and gives bit for bit the tensors of the float32 images scaled directly in numpy (no float copy of the
data set on disk, no difference in the inputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_pipeline import paths
from fer_pipeline.data.dataset import RawDataset, save_dataset
from fer_pipeline.data.tensors import load_split_tensors
from fer_pipeline.io import read_json
from stages import preprocess as preprocess_stage


def reference_inputs(images: np.ndarray, train: np.ndarray, mode: str) -> tuple[np.ndarray, dict[str, float]]:
    """The reference: every image scaled to float32 in plain numpy, with the mean and std of the train rows' float32
    values computed by numpy in float64."""
    x = images.astype(np.float32) / np.float32(255.0)
    if mode == "unit":
        return x, {"mean": 0.0, "std": 1.0}
    mean = float(x[train].mean(dtype=np.float64))
    std = float(x[train].std(dtype=np.float64))
    return (x - np.float32(mean)) / np.float32(std), {"mean": mean, "std": std}


def workspace(tmp_path, monkeypatch, mode: str) -> RawDataset:
    """A folder with fetch's dataset.npz (1500 train, 300 test random images), a split, and preprocess run in it."""
    rng = np.random.default_rng(5)
    n_train, n_test = 1500, 300
    n = n_train + n_test
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    images[:100] = rng.integers(0, 40, (100, 48, 48), dtype=np.uint8)  # uneven levels, as faces have
    ds = RawDataset(images=images, labels=rng.integers(0, 7, n), split=np.array(["train"] * n_train + ["test"] * n_test),
                    usage=np.array(["Training"] * n_train + ["PublicTest"] * n_test), ids=np.array([f"{i}.jpg" for i in range(n)]))
    monkeypatch.chdir(tmp_path)
    save_dataset(ds, paths.DATASET)
    perm = rng.permutation(n_train)
    paths.SPLIT.parent.mkdir(parents=True)
    np.savez(paths.SPLIT, train=np.sort(perm[300:]), valid=np.sort(perm[:300]), test=np.arange(n_train, n))
    (tmp_path / "params.yaml").write_text(f"preprocess:\n  normalize: {mode}\n")
    preprocess_stage.main([])
    return ds


@pytest.mark.parametrize("mode", ["unit", "standardize"])
def test_tensors_bit_identical_to_stored_float32(tmp_path, monkeypatch, mode):
    """For unit and standardize, every part's x tensor equals, bit for bit, the rows of the reference float32 array
    (numpy's formula and statistics over the split's train rows), and every y tensor the labels; the statistics
    written to normalization.json round to the same float32 values as numpy's."""
    ds = workspace(tmp_path, monkeypatch, mode)
    ref, ref_stats = reference_inputs(ds.images, np.load(paths.SPLIT)["train"], mode)
    norm = read_json(paths.NORMALIZATION)
    assert norm["normalize"] == mode
    for key in ("mean", "std"):
        assert np.float32(norm[key]) == np.float32(ref_stats[key])
        assert norm[key] == pytest.approx(ref_stats[key], rel=1e-12, abs=0)
    index = np.load(paths.SPLIT)
    data = load_split_tensors(("train", "valid", "test"))
    for part in ("train", "valid", "test"):
        x, y = data[f"x_{part}"], data[f"y_{part}"]
        assert x.dtype == torch.float32 and x.shape == (len(index[part]), 1, 48, 48) and y.dtype == torch.int64
        expected = ref[index[part]].reshape(-1, 1, 48, 48)
        assert np.array_equal(x.numpy().view(np.uint32), expected.view(np.uint32)), part  # bits, not just values
        np.testing.assert_array_equal(y.numpy(), ds.labels[index[part]])


def test_preprocess_writes_only_the_normalization(tmp_path, monkeypatch):
    """The preprocess stage's output folder holds normalization.json alone: no float copy of the images."""
    workspace(tmp_path, monkeypatch, "standardize")
    assert sorted(p.name for p in paths.PREPROCESS.iterdir()) == ["normalization.json"]
