"""The evaluate stage's work: test metrics (all and deduplicated) and a predictions table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fer_pipeline import CLASSES
from fer_pipeline.metrics import confusion, per_class_scores, summary_scores


def evaluation_report(y_true: np.ndarray, y_pred: np.ndarray, twin: np.ndarray, label: str) -> dict[str, Any]:
    """The metrics file: scores on the whole test split and without train twins, recall per class (numbers only,
    beside the data label; provenance is in report.json's audit)."""
    keep = ~twin
    # Kept short on purpose: `dvc metrics show/diff` prints one column per key.
    report = {
        "data": label,
        "test": summary_scores(y_true, y_pred) | {"images": int(len(y_true))},
        "test_dedup": summary_scores(y_true[keep], y_pred[keep]) | {"images": int(keep.sum())},
        "recall": {c: s["recall"] for c, s in per_class_scores(y_true, y_pred).items()},
    }
    return report


def audit_record(manifest: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """What produced a result: data sha256, git commit, torch version, device and threads of its training run."""
    return {
        "data_sha256": manifest["sha256"] or manifest["source"],
        "git_commit": run["git_commit"],
        "git_dirty": run["git_dirty"],
        "torch": run["versions"]["torch"],
        "device": run["device"],
        "torch_threads": run["torch_threads"],
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
