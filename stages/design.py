"""design: choice.json and the carry-over round's validation metrics -> data/design/design.json, the integrated
model's settings (fer_pipeline/analysis/design.py; test is never read)."""

from fer_pipeline import cli
from fer_pipeline.analysis.design import write_design
from fer_pipeline.params import ParamsFile, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[int, ...]:
    return pf.field(StudyParams, "study.seeds")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print("\n".join(write_design(read_params(args, ParamsFile(args.params)))))


if __name__ == "__main__":
    cli.run(main)
