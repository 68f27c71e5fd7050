"""Reading back what train and evaluate wrote, and tabulating variants side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_pipeline import CLASSES, paths
from fer_pipeline.io import read_json


def read_history(variant: str) -> pd.DataFrame:
    """Per-epoch log of a variant from DVCLive's .tsv files, one column per metric."""
    root = paths.live_dir(variant) / "plots" / "metrics"
    frames = []
    for tsv in sorted(root.rglob("*.tsv")):
        name = tsv.relative_to(root).with_suffix("").as_posix()
        df = pd.read_csv(tsv, sep="\t")
        frames.append(df.set_index("step")[df.columns[-1]].rename(name))
    history = pd.concat(frames, axis=1).reset_index()
    history["epoch"] = history["step"] + 1  # DVCLive steps start at 0, epochs at 1
    return history


def variant_row(variant: str) -> dict[str, object]:
    """One results-table row: test scores, dedup macro recall, epochs trained and wall time."""
    ev = read_json(paths.eval_file(variant))
    run = read_json(paths.run_file(variant))
    live = read_json(paths.live_dir(variant) / "metrics.json")
    return {
        "variant": variant,
        "test_accuracy": ev["test"]["accuracy"],
        "test_macro_recall": ev["test"]["macro_recall"],
        "test_macro_f1": ev["test"]["macro_f1"],
        "test_dedup_macro_recall": ev["test_dedup"]["macro_recall"],
        "best_epoch": live["best_epoch"],
        "epochs_trained": run["epochs_trained"],
        "train_wall_s": run["wall_time_s"],
    }


def results_table(variants: list[str]) -> pd.DataFrame:
    """Rows for each variant, in the given order."""
    return pd.DataFrame([variant_row(v) for v in variants])


def markdown_table(table: pd.DataFrame, label: str) -> str:
    """The results table as Markdown, headed by the data label."""
    cols = list(table.columns)
    lines = [f"Data: {label}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = [f"{row[c]:.4f}" if isinstance(row[c], float) and c.startswith("test") else str(row[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def read_predictions(variant: str) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) class indices of a variant's saved test predictions."""
    df = pd.read_csv(paths.predictions_file(variant), usecols=["actual", "predicted"])
    index = {c: i for i, c in enumerate(CLASSES)}
    return df["actual"].map(index).to_numpy(), df["predicted"].map(index).to_numpy()
