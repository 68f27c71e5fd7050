"""stats: every study run's test predictions -> data/stats/stats.json, metrics/study/<axis>.json, plots/study/variants.csv."""

import pandas as pd

from fer_pipeline import cli
from fer_pipeline.fetch import data_label
from fer_pipeline.io import atomic_path, write_json
from fer_pipeline.study import axis_metrics, load_runs, study_stats
from fer_pipeline.variants import study_variants


def main() -> None:
    params = cli.stage_params(cli.stage_args(__doc__))
    variants = study_variants(params)
    stats = study_stats(variants, load_runs(variants, params.study.seeds), params.study.bootstrap)
    label = data_label()
    write_json("data/stats/stats.json", {"data": label, "seeds": list(params.study.seeds), **stats})
    for axis, table in axis_metrics(stats, variants).items():
        write_json(f"metrics/study/{axis}.json", {"data": label, "test_macro_recall": table})
    rows = [{"axis": s["axis"], "variant": name, "macro_recall": s["macro_recall"]["mean"],
             "ci_low": s["macro_recall"]["ci95"][0], "ci_high": s["macro_recall"]["ci95"][1]}
            for name, s in stats["variants"].items()]
    with atomic_path("plots/study/variants.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    print(f"stats [{label}]: {len(rows)} variants x {len(params.study.seeds)} seeds, "
          f"{params.study.bootstrap} bootstrap resamples; best per axis: "
          + ", ".join(f"{a}={s['best']}" for a, s in stats["axes"].items()))


if __name__ == "__main__":
    cli.run(main)
