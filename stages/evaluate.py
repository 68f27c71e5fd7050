"""evaluate: data/train/<run>/model.pt -> metrics/evaluate/<run>.json, data/evaluate/<run>/{predictions.csv, report.json}."""

from fer_pipeline import cli
from fer_pipeline.params import EvaluateParams, ParamsFile
from fer_pipeline.training.evaluate import evaluate_run, evaluation_params


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[str, EvaluateParams]:
    return evaluation_params(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    evaluate_run(args.variant, *read_params(args, ParamsFile(args.params)))


if __name__ == "__main__":
    cli.run(main)
