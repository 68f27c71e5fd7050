"""stats: every study run's test predictions -> data/stats/stats.json, metrics/study/integrated.json, plots/study/variants.csv."""

from fer_pipeline import cli
from fer_pipeline.analysis.choose import study_and_presets
from fer_pipeline.analysis.stats import write_stats
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[StudyParams, PresetsParams]:  # type: ignore[valid-type]
    return study_and_presets(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print(write_stats(*read_params(args, ParamsFile(args.params))))


if __name__ == "__main__":
    cli.run(main)
