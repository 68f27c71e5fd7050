"""stats: every study run's test predictions -> data/stats/stats.json, metrics/study/<axis>.json, plots/study/variants.csv."""

import pandas as pd

from fer_pipeline import cli, paths
from fer_pipeline.analysis.stats import TEST_SETS, axis_metrics, disagreements, load_runs, study_stats
from fer_pipeline.analysis.variants import study_families
from fer_pipeline.data.dataset import data_label
from fer_pipeline.io import atomic_path, read_json, write_json
from fer_pipeline.params import ParamsFile, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> StudyParams:
    return pf.section(StudyParams, "study")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    study = read_params(args, ParamsFile(args.params))
    choice = read_json(paths.CHOICE)
    families = study_families(study, choice)
    runs = load_runs(families, study)
    best_single = choice["best_single"]
    by_set = {t: study_stats(families, runs[t], study.bootstrap, study, best_single) for t in TEST_SETS}
    label = data_label()
    write_json(paths.STATS, {"data": label, "seeds": list(study.seeds), "confirm_seeds": list(study.confirm_seeds),
                             "bootstrap_resamples": study.bootstrap, "best_single": best_single, **by_set,
                             "dedup_disagreements": disagreements(by_set)})
    stats = by_set["test"]
    for axis, table in axis_metrics(stats, families).items():
        write_json(paths.study_metrics_file(axis), {"data": label, "test_macro_recall": table})
    rows = [{"axis": s["axis"], "variant": name, "macro_recall": s["macro_recall"]["mean"],
             "ci_low": s["macro_recall"]["ci95"][0], "ci_high": s["macro_recall"]["ci95"][1]}
            for name, s in stats["variants"].items()]
    with atomic_path(paths.STUDY_PLOT) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    flagged = [n for n, s in stats["variants"].items() if s["degenerate"]]
    print(f"stats [{label}]: {len(rows)} variants x {len(study.seeds)} seeds, {study.bootstrap} bootstrap resamples; "
          f"degenerate: {', '.join(flagged) or 'none'}")


if __name__ == "__main__":
    cli.run(main)
