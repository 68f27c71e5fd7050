"""The evaluate stage's work: test metrics (all and deduplicated) and a predictions table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fer_pipeline import CLASSES
from fer_pipeline.metrics import confusion, per_class_scores, summary_scores


def evaluation_report(y_true: np.ndarray, y_pred: np.ndarray, twin: np.ndarray, label: str, variant: str) -> dict[str, Any]:
    """Metrics on the whole test split and on the test split without images that have a train twin."""
    keep = ~twin
    return {
        "data": label,
        "variant": variant,
        "test": summary_scores(y_true, y_pred) | {"images": int(len(y_true))},
        "test_dedup": summary_scores(y_true[keep], y_pred[keep]) | {"images": int(keep.sum())},
        "per_class": per_class_scores(y_true, y_pred),
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


def confusion_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Confusion matrix counts with its class order."""
    return {"classes": list(CLASSES), "matrix": confusion(y_true, y_pred)}
