"""release: validation scores of every recipe and study run -> data/release/model.json (the model users get)
and reports/model-card.md (its card, from the metrics)."""

from fer_pipeline import cli, paths
from fer_pipeline.io import atomic_path, read_json, write_json
from fer_pipeline.params import EvaluateParams, ParamsFile, SplitParams
from fer_pipeline.serving.release import candidate_recalls, model_card, release_record


def parse(argv=None):
    return cli.stage_args(__doc__, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[EvaluateParams, float]:
    """How the evaluate stage predicted (fer-predict predicts the same way with the released model), and the
    share of the training images that validated (the card says so)."""
    return pf.section(EvaluateParams, "evaluate"), pf.field(SplitParams, "split.valid_fraction")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    evaluate, valid_fraction = read_params(args, ParamsFile(args.params))
    record = release_record(candidate_recalls(), evaluate.tta)
    run = record["run"]
    card = model_card(record, read_json(paths.MANIFEST), read_json(paths.run_file(run)), read_json(paths.eval_file(run)),
                      read_json(paths.report_file(run)), valid_fraction)
    with atomic_path(paths.MODEL_CARD) as tmp:
        tmp.write_text(card)
    write_json(paths.RELEASE, record)
    print(f"release: {record['model']} ({record['why']}); card in {paths.MODEL_CARD}")


if __name__ == "__main__":
    cli.run(main)
