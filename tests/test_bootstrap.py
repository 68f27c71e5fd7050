"""fer_pipeline.bootstrap: weighted scores equal scikit-learn's, bootstrap and paired differences behave."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from fer_pipeline.bootstrap import (
    bootstrap_counts,
    interval,
    paired_difference,
    per_class_recall,
    summarize_variant,
    weighted_scores,
)

RNG = np.random.default_rng(0)
Y = RNG.integers(0, 7, 300)
P = np.where(RNG.random(300) < 0.6, Y, RNG.integers(0, 7, 300))


def test_plain_scores_equal_sklearn():
    """With weights of one, accuracy / macro recall / macro F1 equal scikit-learn's."""
    s = weighted_scores(Y, P, np.ones((1, 300), np.float32))
    assert s["accuracy"][0] == pytest.approx(skm.accuracy_score(Y, P))
    assert s["macro_recall"][0] == pytest.approx(skm.recall_score(Y, P, average="macro"))
    assert s["macro_f1"][0] == pytest.approx(skm.f1_score(Y, P, average="macro"))


def test_weighted_scores_equal_sklearn_sample_weight():
    """Integer draw counts act as scikit-learn sample weights (a bootstrap resample)."""
    w = bootstrap_counts(300, 3, seed=1)
    s = weighted_scores(Y, P, w)
    for b in range(3):
        assert s["macro_recall"][b] == pytest.approx(skm.recall_score(Y, P, average="macro", sample_weight=w[b]), abs=1e-6)
        assert s["macro_f1"][b] == pytest.approx(skm.f1_score(Y, P, average="macro", sample_weight=w[b]), abs=1e-6)
        assert s["accuracy"][b] == pytest.approx(skm.accuracy_score(Y, P, sample_weight=w[b]), abs=1e-6)


def test_hand_computed_macro_recall():
    """y = [0,0,1,1], p = [0,1,1,1]: recalls 1/2 and 1 -> macro 0.75; F1 (2/3 and 0.8) -> 0.7333."""
    s = weighted_scores(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), np.ones((1, 4), np.float32))
    assert s["macro_recall"][0] == pytest.approx(0.75)
    assert s["macro_f1"][0] == pytest.approx((2 / 3 + 0.8) / 2)
    assert s["accuracy"][0] == pytest.approx(0.75)


def test_bootstrap_counts_are_resamples():
    """Each row draws n images with replacement (counts sum to n), the same for the same seed."""
    w = bootstrap_counts(50, 20, seed=3)
    assert w.shape == (20, 50) and np.all(w.sum(axis=1) == 50)
    assert np.array_equal(w, bootstrap_counts(50, 20, seed=3))
    assert not np.array_equal(w, bootstrap_counts(50, 20, seed=4))


def test_summary_mean_sd_and_interval():
    """Mean and sd over seeds are of the per-seed plain scores; the 95% interval brackets the mean."""
    runs = [(Y, P), (Y, np.where(RNG.random(300) < 0.5, Y, P))]
    s = summarize_variant(runs, bootstrap_counts(300, 400))
    per_seed = [skm.recall_score(Y, p, average="macro") for _, p in runs]
    assert s["macro_recall"]["per_seed"] == pytest.approx(per_seed)
    assert s["macro_recall"]["mean"] == pytest.approx(np.mean(per_seed))
    assert s["macro_recall"]["sd"] == pytest.approx(np.std(per_seed, ddof=1))
    lo, hi = s["macro_recall"]["ci95"]
    assert lo < s["macro_recall"]["mean"] < hi and hi - lo < 0.2


def test_paired_difference_significance():
    """A perfect model beats a 60%-right one significantly; a model against itself differs by exactly 0."""
    boot = bootstrap_counts(300, 300)
    better = paired_difference([(Y, Y)], [(Y, P)], boot)
    assert better["difference"] > 0.3 and better["significant"] and better["ci95"][0] > 0
    same = paired_difference([(Y, P)], [(Y, P)], boot)
    assert same == {"difference": 0.0, "ci95": [0.0, 0.0], "significant": False}


def test_interval_and_per_class_recall():
    """interval() is the 2.5/97.5 percentile pair; per-class recall averages over seeds."""
    assert interval(np.arange(1001, dtype=float)) == pytest.approx((25.0, 975.0))
    r = per_class_recall([(np.array([0, 0, 1]), np.array([0, 1, 1])), (np.array([0, 0, 1]), np.array([0, 0, 0]))])
    assert r["angry"] == pytest.approx((0.5 + 1.0) / 2) and r["disgust"] == pytest.approx((1.0 + 0.0) / 2)
