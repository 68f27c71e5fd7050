"""Reading back what train and evaluate wrote: training logs and test predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_pipeline import CLASSES, paths


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


def read_predictions(variant: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(true, predicted) class indices of a variant's saved test predictions, and whether each test image has a
    twin in train (the deduplicated test set is the images without one)."""
    df = pd.read_csv(paths.predictions_file(variant), usecols=["actual", "predicted", "train_twin"])
    index = {c: i for i, c in enumerate(CLASSES)}
    return df["actual"].map(index).to_numpy(), df["predicted"].map(index).to_numpy(), df["train_twin"].to_numpy().astype(bool)
