"""The one metrics module: classification scores from labels and predictions, all from one confusion matrix.

Plain numpy on purpose: every train and evaluate stage imports this module, and scikit-learn's import alone
took 0.88 s of a train stage's 4.3 s start-up (`python -X importtime`, 2 cores). tests/test_metrics.py checks
every score against scikit-learn's.
"""

from __future__ import annotations

import numpy as np

from fer_pipeline import CLASSES

K = len(CLASSES)


def _counts(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(K, K) int64 confusion counts, rows true, columns predicted."""
    return np.bincount(np.asarray(y_true) * K + np.asarray(y_pred), minlength=K * K).reshape(K, K)


def _per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, F1, support) per class; 0 where a ratio has nothing to divide (scikit-learn's zero_division=0)."""
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, tp / support, 0.0)
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        denominator = support + predicted  # 2 tp + fp + fn
        f1 = np.where(denominator > 0, 2 * tp / denominator, 0.0)
    return precision, recall, f1, support


def summary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro recall (the primary metric, over all 7 classes), macro F1 and balanced accuracy."""
    cm = _counts(y_true, y_pred)
    _, recall, f1, support = _per_class(cm)
    return {
        "accuracy": float(np.trace(cm) / max(cm.sum(), 1)),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        # recall over the classes present; equals macro_recall when every class is in y_true
        "balanced_accuracy": float(recall[support > 0].mean()) if (support > 0).any() else 0.0,
    }


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per class name."""
    p, r, f, s = _per_class(_counts(y_true, y_pred))
    return {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, c in enumerate(CLASSES)}


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> list[list[int]]:
    """Confusion matrix counts, rows = true class, columns = predicted, in CLASSES order."""
    return _counts(y_true, y_pred).tolist()
