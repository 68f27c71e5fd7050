"""stats: every study run's test predictions -> data/stats/stats.json, metrics/study/<axis>.json, plots/study/variants.csv."""

import pandas as pd

from fer_pipeline import cli, paths
from fer_pipeline.dataset import data_label
from fer_pipeline.io import atomic_path, write_json
from fer_pipeline.params import ParamsFile, StudyParams
from fer_pipeline.stats import axis_metrics, load_runs, study_stats
from fer_pipeline.variants import study_variants


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> StudyParams:
    return pf.section(StudyParams, "study")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    study = read_params(args, ParamsFile(args.params))
    variants = study_variants(study)
    stats = study_stats(variants, load_runs(variants, study.seeds), study.bootstrap)
    label = data_label()
    write_json(paths.STATS, {"data": label, "seeds": list(study.seeds), **stats})
    for axis, table in axis_metrics(stats, variants).items():
        write_json(f"metrics/study/{axis}.json", {"data": label, "test_macro_recall": table})
    rows = [{"axis": s["axis"], "variant": name, "macro_recall": s["macro_recall"]["mean"],
             "ci_low": s["macro_recall"]["ci95"][0], "ci_high": s["macro_recall"]["ci95"][1]}
            for name, s in stats["variants"].items()]
    with atomic_path("plots/study/variants.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    print(f"stats [{label}]: {len(rows)} variants x {len(study.seeds)} seeds, {study.bootstrap} bootstrap resamples; "
          "best per axis: " + ", ".join(f"{a}={s['best']}" for a, s in stats["axes"].items()))


if __name__ == "__main__":
    cli.run(main)
