"""design: choice.json and the factorial's validation metrics -> data/design/design.json, the factorial's fit and
the integrated model (fer_pipeline/analysis/design.py; test is never read)."""

from fer_pipeline import cli
from fer_pipeline.analysis.choose import study_and_presets
from fer_pipeline.analysis.design import write_design
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[StudyParams, PresetsParams]:  # type: ignore[valid-type]
    return study_and_presets(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print("\n".join(write_design(*read_params(args, ParamsFile(args.params)))))


if __name__ == "__main__":
    cli.run(main)
