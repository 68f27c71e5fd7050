"""choose: validation metrics of every factor's runs -> data/choose/choice.json (test is never read).

(The original study calls this step select; a module named select would shadow Python's own.)
"""

from fer_pipeline import cli, paths
from fer_pipeline.analysis.choose import choice_record, study_and_presets
from fer_pipeline.io import write_json
from fer_pipeline.params import ParamsFile, PresetsParams, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[StudyParams, PresetsParams]:  # type: ignore[valid-type]
    return study_and_presets(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    record = choice_record(*read_params(args, ParamsFile(args.params)))
    write_json(paths.CHOICE, record)
    print("choose: " + ", ".join(f"{k}={v}" for k, v in record["chosen"].items()))


if __name__ == "__main__":
    cli.run(main)
