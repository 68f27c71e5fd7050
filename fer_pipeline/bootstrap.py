"""Statistics over seeds and test images: means, bootstrap intervals, paired bootstrap differences.

Everything is computed from saved predictions. A bootstrap resample of the test images is a
row of counts W[b, i] (how often image i was drawn); scores of every variant are evaluated on
the same rows, so differences between variants are paired.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_pipeline import CLASSES

METRICS = ("macro_recall", "macro_f1", "accuracy")


def bootstrap_counts(n: int, resamples: int, seed: int = 0) -> np.ndarray:
    """(resamples, n) float32 draw counts of n images sampled with replacement, seeded."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    counts = np.zeros((resamples, n), dtype=np.float32)
    np.add.at(counts, (np.repeat(np.arange(resamples), n), idx.ravel()), 1.0)
    return counts


def weighted_scores(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, macro recall and macro F1 for each row of image weights (a row of ones = plain scores).

    Macro averages run over the classes present in each weighted sample, as scikit-learn does
    for the classes present in y_true.
    """
    k = len(CLASSES)
    true_1h = np.eye(k, dtype=np.float32)[y_true]
    pred_1h = np.eye(k, dtype=np.float32)[y_pred]
    correct = (y_true == y_pred).astype(np.float32)
    support = weights @ true_1h  # (B, k)
    predicted = weights @ pred_1h
    hits = weights @ (true_1h * correct[:, None])
    present = support > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(present, hits / support, 0.0)
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    n_present = present.sum(axis=1)
    return {
        "accuracy": (weights @ correct) / weights.sum(axis=1),
        "macro_recall": (recall * present).sum(axis=1) / n_present,
        "macro_f1": (f1 * present).sum(axis=1) / n_present,
    }


def seed_mean_scores(runs: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray) -> dict[str, np.ndarray]:
    """Per metric: (B,) scores averaged over the seeds' runs, each run scored on the same resamples."""
    per_run = [weighted_scores(t, p, weights) for t, p in runs]
    return {m: np.mean([r[m] for r in per_run], axis=0) for m in METRICS}


def interval(values: np.ndarray) -> tuple[float, float]:
    """The central 95% percentile interval."""
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def summarize_variant(runs: list[tuple[np.ndarray, np.ndarray]], boot: np.ndarray) -> dict[str, Any]:
    """Per metric: per-seed values, mean and sd over seeds, and a 95% bootstrap interval of the mean."""
    ones = np.ones((1, len(runs[0][0])), dtype=np.float32)
    plain = [weighted_scores(t, p, ones) for t, p in runs]
    boot_mean = seed_mean_scores(runs, boot)
    out: dict[str, Any] = {"seeds": len(runs)}
    for m in METRICS:
        values = np.array([float(r[m][0]) for r in plain])
        out[m] = {
            "per_seed": values.tolist(),
            "mean": float(values.mean()),
            "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "ci95": list(interval(boot_mean[m])),
        }
    return out


def paired_difference(runs_a: list, runs_b: list, boot: np.ndarray, metric: str = "macro_recall") -> dict[str, Any]:
    """a - b in seed-mean `metric` on the same test images: point value, 95% interval, significant if it excludes 0."""
    ones = np.ones((1, len(runs_a[0][0])), dtype=np.float32)
    point = float(seed_mean_scores(runs_a, ones)[metric][0] - seed_mean_scores(runs_b, ones)[metric][0])
    lo, hi = interval(seed_mean_scores(runs_a, boot)[metric] - seed_mean_scores(runs_b, boot)[metric])
    return {"difference": point, "ci95": [lo, hi], "significant": bool(lo > 0 or hi < 0)}


def per_class_recall(runs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Recall of each class, averaged over seeds."""
    out = {}
    for i, c in enumerate(CLASSES):
        out[c] = float(np.mean([np.mean(p[t == i] == i) if np.any(t == i) else 0.0 for t, p in runs]))
    return out
