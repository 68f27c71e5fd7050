"""report: statistics, choice, training logs -> reports/study.md with its figures beside it."""

import numpy as np

from fer_pipeline import cli, paths
from fer_pipeline.analysis.report import axis_figure, curves_figure, recall_heatmap, write_markdown
from fer_pipeline.analysis.variants import study_families, trained, variant_seeds
from fer_pipeline.data.dataset import data_label
from fer_pipeline.io import read_json
from fer_pipeline.params import ParamsFile, StudyParams
from fer_pipeline.plots import confusion_figure, save_figure
from fer_pipeline.training.results import read_history


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> StudyParams:
    return pf.section(StudyParams, "study")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    study = read_params(args, ParamsFile(args.params))
    stats, choice, design, label = read_json(paths.STATS), read_json(paths.CHOICE), read_json(paths.DESIGN), data_label()
    families, out = study_families(study, choice), paths.REPORTS
    full = stats["test"]
    figures = {"heatmap": "recall_heatmap.png", "integrated_confusion": "integrated_confusion.png"}
    save_figure(recall_heatmap(full, label), out / figures["heatmap"])
    for axis, vs in families.items():
        if axis in ("base", "integrated", "carryover"):  # the carry-over round is a table in the integrated part
            continue
        figures[f"axis_{axis}"], figures[f"curves_{axis}"] = f"axis_{axis}.png", f"curves_{axis}.png"
        save_figure(axis_figure(axis, [v.name for v in vs], full, label), out / figures[f"axis_{axis}"])
        histories = {v.name: [read_history(v.run(s)) for s in variant_seeds(v, study)] for v in vs}
        save_figure(curves_figure(axis, histories, label), out / figures[f"curves_{axis}"])
    integrated = families["integrated"][0]
    cm = sum(np.asarray(read_json(paths.report_file(integrated.run(s)))["confusion"]) for s in variant_seeds(integrated, study))
    save_figure(confusion_figure(cm, f"integrated model: test confusion, all seeds, row-normalized [{label}]"),
                out / figures["integrated_confusion"])
    records = {v.run(s): read_json(paths.run_file(v.run(s))) for v in trained(families).values()
               for s in variant_seeds(v, study)}  # each run.json read once
    compute = {"runs": len(records), "train_hours": sum(r["wall_time_s"] for r in records.values()) / 3600}
    control = families["base"][0]
    base = records[control.run(variant_seeds(control, study)[0])]
    # Claim (b): how many capped runs of each uncapped activation reached the epoch cap.
    activation_runs = {v.value if v.axis != "base" else base["model"]["activation"]: v for v in families["activation"]}
    capped = {a: [records[activation_runs[a].run(s)]["stop_reason"] for s in variant_seeds(activation_runs[a], study)]
              for a in study.uncapped_activations if a in activation_runs}
    write_markdown(paths.STUDY_REPORT, stats, choice, design, label, figures, compute,
                   control={"model": base["model"], "train": base["train"]}, capped=capped)
    print(f"report [{label}]: wrote {paths.STUDY_REPORT} and {len(figures)} figures")


if __name__ == "__main__":
    cli.run(main)
