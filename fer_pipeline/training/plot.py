"""The plot stage's figures of one run: learning curves, test confusion, a grid of test images with labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_pipeline import paths
from fer_pipeline.data.dataset import data_label, load_dataset
from fer_pipeline.io import read_json
from fer_pipeline.plots import confusion_figure, learning_curves, prediction_grid, save_figure
from fer_pipeline.training.results import read_history


def plot_run(v: str, grid_images: int) -> str:
    """plots/<run>/{curves,confusion,grid}.png from run `v`'s log, report and predictions; returns the line the
    stage prints."""
    label = data_label()
    out = paths.plot_dir(v)
    save_figure(learning_curves(read_history(v), f"{v}: loss and accuracy per epoch [{label}]"), out / "curves.png")
    cm = read_json(paths.report_file(v))["confusion"]
    save_figure(confusion_figure(np.asarray(cm), f"{v}: test confusion, row-normalized [{label}]"), out / "confusion.png")
    preds = pd.read_csv(paths.predictions_file(v)).head(grid_images)
    test_idx = np.load(paths.SPLIT)["test"][: len(preds)]
    images = load_dataset(paths.DATASET).images[test_idx]
    grid = prediction_grid(images, preds["actual"].tolist(), preds["predicted"].tolist(),
                           f"{v}: test images, true and predicted [{label}]")
    save_figure(grid, out / "grid.png")
    return (f"plot {v}: wrote {out}/curves.png, confusion.png, grid.png")
