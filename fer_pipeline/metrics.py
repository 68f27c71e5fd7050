"""The one metrics module: classification scores from labels and predictions (scikit-learn)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from fer_pipeline import CLASSES

LABELS = list(range(len(CLASSES)))


def summary_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro recall (the primary metric), macro F1 and balanced accuracy."""
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "macro_recall": float(skm.recall_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=0)),
        "macro_f1": float(skm.f1_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=0)),
        # recall over the classes present; equals macro_recall when every class is in y_true
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
    }


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per class name."""
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=LABELS, zero_division=0)
    return {
        c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, c in enumerate(CLASSES)
    }


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> list[list[int]]:
    """Confusion matrix counts, rows = true class, columns = predicted, in CLASSES order."""
    return skm.confusion_matrix(y_true, y_pred, labels=LABELS).tolist()

