"""The one metrics module: classification scores from labels and predictions, all from one confusion matrix.

Plain numpy on purpose: every train and evaluate stage imports this module, and scikit-learn's import alone
took 0.88 s of a train stage's 4.3 s start-up (`python -X importtime`, 2 cores). tests/test_metrics.py checks
every score against scikit-learn's.

The macro scores average over all 7 classes, in every caller: a plain score (train, evaluate) and each bootstrap
resample of the test images (bootstrap.py) use the same `weighted_scores`. A class without a true image (in a
small sample, or a resample that drew none of it) has recall 0 and F1 0 and still counts as one of the 7, as in
scikit-learn with `labels=range(7), zero_division=0`; so a model is never scored over fewer classes than it is
asked to tell apart. The recall over the classes present is `balanced_accuracy`.
"""

from __future__ import annotations

import numpy as np

from fer_pipeline import CLASSES

K = len(CLASSES)
CHANCE = 1 / K  # macro recall of always predicting one class (1 for it, 0 for the other K - 1)


def _counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(K, K) int64 confusion counts, rows true, columns predicted."""
    return np.bincount(np.asarray(y_true) * K + np.asarray(y_pred), minlength=K * K).reshape(K, K)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, 0.0)


def _per_class(hits: np.ndarray, support: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, F1) per class (last axis) from true positives, true and predicted counts."""
    return _ratio(hits, predicted), _ratio(hits, support), _ratio(2 * hits, support + predicted)  # F1 = 2 tp / (2 tp + fp + fn)


def _macro(per_class: np.ndarray) -> np.ndarray:
    """The mean over all K classes (last axis), in float64."""
    return np.asarray(per_class.sum(axis=-1), dtype=float) / K


def weighted_scores(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, macro recall and macro F1 (over all 7 classes, module docstring) for each row of per-image
    weights (B, n): a row of ones gives the plain scores, a row of bootstrap draw counts a resample's. The
    weights' dtype sets the arithmetic's (float32 for the bootstrap's many rows)."""
    true_1h = np.eye(K, dtype=np.float32)[y_true]
    pred_1h = np.eye(K, dtype=np.float32)[y_pred]
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float32)
    support, predicted = weights @ true_1h, weights @ pred_1h  # (B, K)
    hits = weights @ (true_1h * correct[:, None])
    _, recall, f1 = _per_class(hits, support, predicted)
    return {"accuracy": _ratio(weights @ correct, weights.sum(axis=1)), "macro_recall": _macro(recall), "macro_f1": _macro(f1)}


def summary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro recall (the primary metric), macro F1 and balanced accuracy: `weighted_scores` with
    weights 1, plus the recall over the classes present in y_true."""
    scores = {k: float(v[0]) for k, v in weighted_scores(y_true, y_pred, np.ones((1, len(y_true)))).items()}
    cm = _counts(y_true, y_pred)
    support = cm.sum(axis=1)
    recall = _ratio(np.diag(cm).astype(float), support)
    # equals macro_recall when every class is in y_true
    return scores | {"balanced_accuracy": float(recall[support > 0].mean()) if (support > 0).any() else 0.0}


HEADLINE = ("macro_recall", "accuracy", "macro_f1")  # a user's first look, with the deduplicated macro recall


def headline(label: str, test: dict[str, float], dedup: dict[str, float]) -> dict[str, float | str]:
    """What `dvc metrics show` prints for one model: the data label, test macro recall, accuracy and macro F1, and
    macro recall on the deduplicated test set. Flat keys, few of them: the table has one column per key, and the
    rest (balanced accuracy, image counts, recall per class) is in the run's scores file."""
    return {"data": label, **{k: float(test[k]) for k in HEADLINE}, "dedup_macro_recall": float(dedup["macro_recall"])}


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per class name."""
    cm = _counts(y_true, y_pred)
    support = cm.sum(axis=1)
    p, r, f = _per_class(np.diag(cm).astype(float), support, cm.sum(axis=0))
    return {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, c in enumerate(CLASSES)}


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> list[list[int]]:
    """Confusion matrix counts, rows = true class, columns = predicted, in CLASSES order."""
    return _counts(y_true, y_pred).tolist()
