"""release: validation scores of every recipe and study run -> data/release/model.json (the model users get)
and reports/model-card.md (its card, from the metrics)."""

from fer_pipeline import cli
from fer_pipeline.params import EvaluateParams, ParamsFile, SplitParams
from fer_pipeline.serving.release import release


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[EvaluateParams, float]:
    """How the evaluate stage predicted (fer-predict predicts the same way with the released model), and the
    share of the training images that validated (the card says so)."""
    return pf.section(EvaluateParams, "evaluate"), pf.field(SplitParams, "split.valid_fraction")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    evaluate, valid_fraction = read_params(args, ParamsFile(args.params))
    print(release(evaluate.tta, valid_fraction))


if __name__ == "__main__":
    cli.run(main)
