"""report: statistics, choice, training logs -> reports/study.md with its figures beside it."""

from pathlib import Path

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.choose import run_name
from fer_pipeline.fetch import data_label
from fer_pipeline.io import read_json
from fer_pipeline.plots import confusion_figure, save_figure
from fer_pipeline.report import read_history
from fer_pipeline.study_report import axis_figure, curves_figure, recall_heatmap, write_markdown
from fer_pipeline.variants import study_variants

OUT = Path("reports")


def main() -> None:
    params = cli.stage_params(cli.stage_args(__doc__))
    stats, choice, label = read_json("data/stats/stats.json"), read_json("data/choose/choice.json"), data_label()
    variants, seeds = study_variants(params), params.study.seeds
    figures = {"heatmap": "recall_heatmap.png", "integrated_confusion": "integrated_confusion.png"}
    save_figure(recall_heatmap(stats, label), OUT / figures["heatmap"])
    for axis in stats["axes"]:
        figures[f"axis_{axis}"], figures[f"curves_{axis}"] = f"axis_{axis}.png", f"curves_{axis}.png"
        save_figure(axis_figure(axis, stats, label), OUT / figures[f"axis_{axis}"])
        histories = {v.name: [read_history(run_name(v, s)) for s in seeds] for v in variants[axis]}
        save_figure(curves_figure(axis, histories, label), OUT / figures[f"curves_{axis}"])
    cm = sum(np.asarray(read_json(paths.report_file(run_name(variants["integrated"][0], s)))["confusion"]) for s in seeds)
    save_figure(confusion_figure(cm, f"integrated model: test confusion, all seeds, row-normalized [{label}]"),
                OUT / figures["integrated_confusion"])
    runs = [read_json(paths.run_file(run_name(v, s))) for vs in variants.values() for v in vs for s in seeds]
    compute = {"runs": len(runs), "train_hours": sum(r["wall_time_s"] for r in runs) / 3600}
    write_markdown(OUT / "study.md", stats, choice, label, figures, compute)
    print(f"report [{label}]: wrote {OUT}/study.md and {len(figures)} figures")


if __name__ == "__main__":
    cli.run(main)
