"""report: statistics, choice, training logs -> reports/study.md with its figures beside it."""

from fer_pipeline import cli
from fer_pipeline.analysis.report import write_report
from fer_pipeline.params import ParamsFile, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> StudyParams:
    return pf.section(StudyParams, "study")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print(write_report(read_params(args, ParamsFile(args.params))))


if __name__ == "__main__":
    cli.run(main)
