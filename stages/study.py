"""study: one study variant, every seed of study.seeds, trained then evaluated in one process ->
data/train/<variant>/s<seed>/, metrics/train/<variant>/s<seed>/, data/evaluate/<variant>/s<seed>/,
metrics/evaluate/<variant>/s<seed>.json.

One process per variant, not per run: Python's and torch's start-up and DVC's per-stage bookkeeping are paid
once for all its seeds. Each seed's run is exactly what `stages.train` then `stages.evaluate` would produce.
"""

from fer_pipeline import FerError, cli
from fer_pipeline.params import EvaluateParams, ModelParams, ParamsFile, StudyParams, TrainParams
from fer_pipeline.variants import model_and_train, run_name
from stages import evaluate, train


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv, seeds=True)


def read_params(args, pf: ParamsFile) -> tuple[tuple[int, ...], list[tuple[ModelParams, TrainParams]], tuple[str, EvaluateParams]]:
    """The seeds, each seed's model/train params (train.seed set from study.seeds, never read from the section)
    and how to evaluate."""
    seeds = pf.field(StudyParams, f"study.{args.seeds}")
    choice = train.read_choice(args)
    runs = [model_and_train(pf, args.start, args.axis, choice, [*args.set, f"train.seed={s}"]) for s in seeds]
    return seeds, runs, evaluate.read_params(args, pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    seeds, runs, (device, how) = read_params(args, ParamsFile(args.params))
    if any(tp.processes > 1 for _, tp in runs):
        raise FerError(f"{args.params}: train.processes > 1 for study variant {args.variant}; the study trains its "
                       "runs one process each: set base.train.processes: 1 (DDP is for the baseline and the recipe)")
    for seed, (mp, tp) in zip(seeds, runs, strict=True):
        run = run_name(args.variant, seed)
        train.train(run, mp, tp)
        evaluate.evaluate(run, device, how)


if __name__ == "__main__":
    cli.run(main)
