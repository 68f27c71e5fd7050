"""The evaluate stage's work: test metrics (all and deduplicated) and a predictions table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fer_pipeline import CLASSES
from fer_pipeline.metrics import confusion, per_class_scores, summary_scores


def evaluation_report(y_true: np.ndarray, y_pred: np.ndarray, twin: np.ndarray, label: str) -> dict[str, Any]:
    """The metrics file: scores on the whole test split, without train twins, and recall per class."""
    keep = ~twin
    # Kept short on purpose: `dvc metrics show/diff` prints one column per key.
    return {
        "data": label,
        "test": summary_scores(y_true, y_pred) | {"images": int(len(y_true))},
        "test_dedup": summary_scores(y_true[keep], y_pred[keep]) | {"images": int(keep.sum())},
        "recall": {c: s["recall"] for c, s in per_class_scores(y_true, y_pred).items()},
    }


def predictions_table(ids: np.ndarray, y_true: np.ndarray, probs: np.ndarray, twin: np.ndarray) -> pd.DataFrame:
    """One row per test image: id, actual and predicted class names, twin flag, class probabilities."""
    df = pd.DataFrame({
        "id": ids,
        "actual": np.asarray(CLASSES)[y_true],
        "predicted": np.asarray(CLASSES)[probs.argmax(1)],
        "train_twin": twin.astype(int),
    })
    for i, c in enumerate(CLASSES):
        df[f"p_{c}"] = np.round(probs[:, i], 6)
    return df


def detail_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Per-class precision/recall/F1/support and the confusion matrix (rows true, columns predicted)."""
    return {"classes": list(CLASSES), "per_class": per_class_scores(y_true, y_pred), "confusion": confusion(y_true, y_pred)}
