"""design: choice.json and the carry-over round's validation metrics -> data/design/design.json, the integrated
model's settings (fer_pipeline/analysis/design.py; test is never read)."""

from fer_pipeline import cli, paths
from fer_pipeline.analysis.design import design_record, round_recalls
from fer_pipeline.io import read_json, write_json
from fer_pipeline.params import ParamsFile, StudyParams


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[int, ...]:
    return pf.field(StudyParams, "study.seeds")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    seeds = read_params(args, ParamsFile(args.params))
    choice = read_json(paths.CHOICE)
    record = design_record(choice, round_recalls(choice, seeds))
    write_json(paths.DESIGN, record)
    for factor, r in record["round"].items():
        print(f"design: {factor}={r['value']} on {record['architecture']}: {r['effect_at_architecture']:+.4f} "
              f"(on the base {r['effect_at_base']:+.4f}) -> {'kept' if r['kept'] else 'dropped'}")
    print("design: integrated = " + ", ".join(f"{k}={v}" for k, v in record["integrated"].items()))


if __name__ == "__main__":
    cli.run(main)
