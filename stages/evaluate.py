"""evaluate: data/train/<run>/model.pt -> data/evaluate/<run>/{scores.json, predictions.csv, report.json} and the
headline metrics/evaluate/<run>.json (`dvc metrics show`)."""

from fer_pipeline import cli, paths
from fer_pipeline.io import write_json
from fer_pipeline.metrics import headline
from fer_pipeline.params import EvaluateParams, ParamsFile
from fer_pipeline.training.evaluate import evaluate_run, evaluation_params


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[str, EvaluateParams]:
    return evaluation_params(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    scores = evaluate_run(args.variant, *read_params(args, ParamsFile(args.params)))
    write_json(paths.headline_file(args.variant), headline(scores["data"], scores["test"], scores["test_dedup"]))


if __name__ == "__main__":
    cli.run(main)
