"""plot: one run's log and predictions -> plots/<run>/{curves,confusion,grid}.png."""

import numpy as np
import pandas as pd

from fer_pipeline import cli, paths
from fer_pipeline.data.dataset import data_label, load_dataset
from fer_pipeline.io import read_json
from fer_pipeline.params import ParamsFile, PlotParams
from fer_pipeline.plots import confusion_figure, learning_curves, prediction_grid, save_figure
from fer_pipeline.training.results import read_history


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> PlotParams:
    return pf.section(PlotParams, "plot")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    grid_images = read_params(args, ParamsFile(args.params)).grid_images
    label, v = data_label(), args.variant
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
    print(f"plot {v}: wrote {out}/curves.png, confusion.png, grid.png")


if __name__ == "__main__":
    cli.run(main)
