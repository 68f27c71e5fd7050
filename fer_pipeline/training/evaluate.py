"""The evaluate stage's work: a run's test scores (all and deduplicated), predictions table and report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from fer_pipeline import CLASSES, paths
from fer_pipeline.data.dataset import data_label, load_dataset
from fer_pipeline.data.tensors import load_split_tensors
from fer_pipeline.io import atomic_path, read_json, write_json
from fer_pipeline.metrics import confusion, per_class_scores, summary_scores
from fer_pipeline.params import EvaluateParams, ParamsFile, RuntimeParams
from fer_pipeline.training.checkpoint import load_model
from fer_pipeline.training.train import predict, resolve_device


def evaluation_params(pf: ParamsFile) -> tuple[str, EvaluateParams]:
    """The device (runtime.device; on CUDA predictions run under bf16 autocast, so it can change them) and how
    every evaluation predicts."""
    return pf.field(RuntimeParams, "runtime.device"), pf.section(EvaluateParams, "evaluate")


def evaluate_run(run: str, device: str, how: EvaluateParams,
                 data: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Predict the test set with run `run`'s checkpoint on `device`, write its scores, predictions and report, and
    return the scores (`data`: the split's tensors with x_test/y_test when the caller already holds them)."""
    where = resolve_device(device)
    model, _ = load_model(paths.model_file(run))
    data = data if data is not None else load_split_tensors(("test",))
    test_idx = np.load(paths.SPLIT)["test"]
    twin = np.load(paths.DUPLICATES)["test_twin"][test_idx]
    ids = load_dataset(paths.DATASET).ids[test_idx]
    _, probs = predict(model.to(where), data["x_test"], where, how.tta)
    y_true, y_pred = data["y_test"].numpy(), probs.argmax(1).numpy()
    manifest = read_json(paths.MANIFEST)
    label = data_label(manifest)
    report = evaluation_report(y_true, y_pred, twin, label)
    with atomic_path(paths.predictions_file(run)) as tmp:
        predictions_table(ids, y_true, probs.numpy(), twin).to_csv(tmp, index=False)
    # Provenance is no metric: it goes beside the per-class report, not into the metrics file.
    audit = audit_record(manifest, read_json(paths.run_file(run)))
    write_json(paths.report_file(run), {**detail_report(y_true, y_pred), "tta": how.tta, "audit": audit})
    write_json(paths.eval_file(run), report)
    t = report["test"]
    print(f"evaluate {run} [{label}]: test accuracy {t['accuracy']:.4f}, macro recall {t['macro_recall']:.4f}, "
          f"macro F1 {t['macro_f1']:.4f}; dedup macro recall {report['test_dedup']['macro_recall']:.4f}")
    return report


def evaluation_report(y_true: np.ndarray, y_pred: np.ndarray, twin: np.ndarray, label: str) -> dict[str, Any]:
    """The scores file: scores on the whole test split and without train twins, recall per class (numbers only,
    beside the data label; provenance is in report.json's audit)."""
    keep = ~twin
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
