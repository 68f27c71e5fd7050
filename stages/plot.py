"""plot: one variant's log and predictions -> plots/<variant>/{curves,confusion,grid}.png."""

import numpy as np
import pandas as pd

from fer_pipeline import cli, paths
from fer_pipeline.dataset import load_dataset
from fer_pipeline.fetch import data_label
from fer_pipeline.io import read_json
from fer_pipeline.plots import confusion_figure, learning_curves, prediction_grid, save_figure
from fer_pipeline.report import read_history


def main() -> None:
    args = cli.stage_args(__doc__, variant=True)
    params = cli.stage_params(args)
    label, v = data_label(), args.variant
    out = paths.plot_dir(v)
    save_figure(learning_curves(read_history(v), f"{v}: loss and accuracy per epoch [{label}]"), out / "curves.png")
    cm = read_json(paths.report_file(v))["confusion"]
    save_figure(confusion_figure(np.asarray(cm), f"{v}: test confusion, row-normalized [{label}]"), out / "confusion.png")
    preds = pd.read_csv(paths.predictions_file(v)).head(params.plot.grid_images)
    test_idx = np.load(paths.SPLIT)["test"][: len(preds)]
    images = load_dataset(paths.DATASET).images[test_idx]
    grid = prediction_grid(images, preds["actual"].tolist(), preds["predicted"].tolist(),
                           f"{v}: test images, true and predicted [{label}]")
    save_figure(grid, out / "grid.png")
    print(f"plot {v}: wrote {out}/curves.png, confusion.png, grid.png")


if __name__ == "__main__":
    cli.run(main)
