"""fer_pipeline.training.evaluate: test metrics with and without train twins, and the per-image predictions table."""

from __future__ import annotations

import numpy as np
import pytest

from fer_pipeline import CLASSES, SYNTHETIC_BANNER
from fer_pipeline.training import evaluate as ev

# 8 test images, every class present; rows 1 and 7 have a train twin. The model gets rows 0-5 right, 6 and 7 wrong
# (sad and surprise both called angry).
Y_TRUE = np.array([0, 0, 1, 2, 3, 4, 5, 6])
Y_PRED = np.array([0, 0, 1, 2, 3, 4, 0, 0])
TWIN = np.array([False, True, False, False, False, False, False, True])


def test_report_counts_and_label():
    """The report carries the data label, and counts all images vs. the non-twin ones."""
    r = ev.evaluation_report(Y_TRUE, Y_PRED, TWIN, SYNTHETIC_BANNER)
    assert r["data"] == SYNTHETIC_BANNER
    assert r["test"]["images"] == 8
    assert r["test_dedup"]["images"] == 6


def test_report_dedup_excludes_twins():
    """test: 6/8 right; test_dedup drops rows 1 and 7 -> 5/6 right, and surprise (only row 7) leaves the subset."""
    r = ev.evaluation_report(Y_TRUE, Y_PRED, TWIN, "FER2013")
    assert r["test"]["accuracy"] == pytest.approx(6 / 8)
    assert r["test_dedup"]["accuracy"] == pytest.approx(5 / 6)
    # all data: recalls angry 2/2 ... sad 0/1, surprise 0/1 -> 5/7
    assert r["test"]["macro_recall"] == pytest.approx(5 / 7)
    # dedup: six images of classes 0-5, sad wrong; balanced accuracy averages the 6 classes present
    assert r["test_dedup"]["balanced_accuracy"] == pytest.approx(5 / 6)


def test_report_dedup_equals_full_without_twins():
    """With no twins the deduplicated scores equal the full ones."""
    r = ev.evaluation_report(Y_TRUE, Y_PRED, np.zeros(8, bool), "FER2013")
    assert r["test_dedup"] == r["test"]


def test_report_recall_per_class_on_all_images():
    """The metrics file's per-class recall uses all test images: angry 2/2, sad 0/1, surprise 0/1."""
    r = ev.evaluation_report(Y_TRUE, Y_PRED, TWIN, "FER2013")
    assert list(r["recall"]) == list(CLASSES)
    assert r["recall"]["angry"] == 1.0 and r["recall"]["sad"] == 0.0 and r["recall"]["surprise"] == 0.0


def test_detail_report_per_class_on_all_images():
    """The detail report's per-class scores use all test images (supports sum to 8); angry precision 2/4."""
    r = ev.detail_report(Y_TRUE, Y_PRED)
    assert list(r["per_class"]) == list(CLASSES)
    assert sum(v["support"] for v in r["per_class"].values()) == 8
    assert r["per_class"]["angry"]["precision"] == pytest.approx(2 / 4)


def test_predictions_table():
    """One row per image: id, class names for actual and argmax prediction, twin flag as 0/1, p_<class> columns."""
    probs = np.full((3, 7), 0.01)
    probs[0, 3] = probs[1, 6] = probs[2, 0] = 0.94
    df = ev.predictions_table(np.array(["a.jpg", "b.jpg", "c.jpg"]), np.array([3, 5, 1]), probs,
                           np.array([False, True, False]))
    assert list(df.columns) == ["id", "actual", "predicted", "train_twin"] + [f"p_{c}" for c in CLASSES]
    assert df["id"].tolist() == ["a.jpg", "b.jpg", "c.jpg"]
    assert df["actual"].tolist() == ["happy", "sad", "disgust"]
    assert df["predicted"].tolist() == ["happy", "surprise", "angry"]
    assert df["train_twin"].tolist() == [0, 1, 0]
    assert df["p_happy"].tolist() == [0.94, 0.01, 0.01]


def test_predictions_table_rounds_probabilities():
    """Probabilities are rounded to 6 decimals."""
    probs = np.full((1, 7), 1 / 7)
    df = ev.predictions_table(np.array(["x"]), np.array([0]), probs, np.array([False]))
    assert df["p_angry"].iloc[0] == 0.142857


def test_detail_report_confusion():
    """detail_report pairs the class order with the count matrix (rows true, columns predicted)."""
    r = ev.detail_report(Y_TRUE, Y_PRED)
    assert r["classes"] == list(CLASSES)
    assert r["confusion"][0][0] == 2 and r["confusion"][6][0] == 1 and r["confusion"][5][0] == 1
    assert sum(map(sum, r["confusion"])) == 8


def test_audit_record_and_lean_metrics():
    """The audit block names the data sha256 (or the synthetic source), commit, torch, device and threads; the
    metrics file holds no audit (provenance is no metric: `dvc metrics show` would print a column per field)."""
    run = {"git_commit": "abc", "git_dirty": False, "versions": {"torch": "2.14.1"}, "device": "cpu", "torch_threads": 2,
           "wall_time_s": 9.9}
    audit = ev.audit_record({"sha256": "f00", "source": "archive"}, run)
    assert audit == {"data_sha256": "f00", "git_commit": "abc", "git_dirty": False, "torch": "2.14.1", "device": "cpu", "torch_threads": 2}
    assert ev.audit_record({"sha256": None, "source": "synthetic"}, run)["data_sha256"] == "synthetic"
    report = ev.evaluation_report(Y_TRUE, Y_PRED, TWIN, "FER2013")
    assert set(report) == {"data", "test", "test_dedup", "recall"}
