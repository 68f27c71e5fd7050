"""summary: every variant's metrics -> plots/summary/{comparison.png, results.csv, results.md}."""

from fer_pipeline import cli, paths
from fer_pipeline.fetch import data_label
from fer_pipeline.io import atomic_path
from fer_pipeline.plots import comparison_bars, save_figure
from fer_pipeline.report import markdown_table, results_table


def main() -> None:
    params = cli.stage_params(cli.stage_args(__doc__))
    variants = ["baseline"] + [f"activation-{a}" for a in params.study.activations]
    table = results_table(variants)
    label = data_label()
    save_figure(comparison_bars(table, f"Test macro recall and accuracy per variant [{label}]"),
                paths.SUMMARY / "comparison.png")
    with atomic_path(paths.SUMMARY / "results.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(paths.SUMMARY / "results.md") as tmp:
        tmp.write_text(markdown_table(table, label))
    print(markdown_table(table, label))


if __name__ == "__main__":
    cli.run(main)
