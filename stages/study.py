"""study: one study variant, every seed of its seeds (variants.seeds_key), trained then evaluated in one process ->
data/train/<variant>/s<seed>/, metrics/train/<variant>/s<seed>/ and data/evaluate/<variant>/s<seed>/.

One process per variant, not per run: Python's and torch's start-up and DVC's per-stage bookkeeping are paid
once for all its seeds. Each seed's run is exactly what `stages.train` then `stages.evaluate` would produce.
With --point INDEX, the run is choice.json's factorial point INDEX at the chosen architecture
(fer_pipeline/analysis/factorial.py); a point that is an existing run, or an index past the design's points,
trains nothing and says why in skipped.json.
"""

import dataclasses

from fer_pipeline import FerError, cli
from fer_pipeline.analysis.variants import FACTORIAL, Settings, model_and_train, seeds_key
from fer_pipeline.io import read_json
from fer_pipeline.params import EvaluateParams, ModelParams, ParamsFile, RuntimeParams, StudyParams, TrainParams
from fer_pipeline.training.evaluate import evaluation_params
from fer_pipeline.training.runs import choice_settings
from fer_pipeline.training.study import study_runs


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv, point=True)


def read_point(args) -> tuple[Settings, str]:
    """--point's settings, and why it trains nothing ("" when it trains): the point is an existing run, or the
    design has fewer points. A point that trains nothing still resolves choice.json's settings, so the stage reads
    the same params whatever the design."""
    if not args.choice:
        raise FerError(f"--point {args.point} needs --choice data/choose/choice.json (the factorial's points)")
    if args.point < 1:
        raise FerError(f"--point {args.point}: the factorial's own points start at 1 (0 is the chosen architecture's axis run)")
    choice = read_json(args.choice)
    points = (choice.get(FACTORIAL) or {}).get("points", [])
    if args.point >= len(points):
        return choice["settings"], (f"the factorial over {len(choice[FACTORIAL]['factors']) if points else 0} picked "
                                    f"factors has {len(points)} points, none with index {args.point}")
    point = points[args.point]
    levels = ", ".join(f"{f}={v}" for f, v in point["levels"].items())
    if point["reuses"]:
        return choice["settings"], f"point {args.point} ({levels}) is an existing axis run, trained once by its own stage"
    return point["settings"], ""


def read_params(args, pf: ParamsFile) -> tuple[tuple[int, ...], list[tuple[ModelParams, TrainParams]], int,
                                               tuple[str, EvaluateParams], str]:
    """The variant's seeds, each seed's model/train params (train.seed set from them; none when --point trains
    nothing), the torch threads, how to evaluate, and why nothing is trained ("" when it is). A run whose
    architecture comes from its axis or a choice reads study.cnn_seeds as well as study.seeds, since its family
    decides which it trains (variants.seeds_key); the others are the base's MLP and read study.seeds alone. Every
    run trains in one process: runtime.processes is for the baseline and the recipe."""
    choice, skipped = read_point(args) if args.point is not None else (choice_settings(args.choice), "")
    mp, tp = model_and_train(pf, args.start, args.axis, choice, [*args.set, "train.seed=0"])
    if args.choice or any(a.split("=")[0].strip() == "architecture" for a in args.axis):
        by_family = {k: pf.field(StudyParams, f"study.{k}") for k in ("seeds", "cnn_seeds")}
        seeds = by_family[seeds_key(mp.family)]
    else:
        seeds = pf.field(StudyParams, "study.seeds")
    runs = [] if skipped else [(mp, dataclasses.replace(tp, seed=s)) for s in seeds]
    threads = pf.field(RuntimeParams, "runtime.threads")
    return seeds, runs, threads, evaluation_params(pf), skipped


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    seeds, runs, threads, (device, how), skipped = read_params(args, ParamsFile(args.params))
    study_runs(args.variant, seeds, runs, device, threads, how, skipped)


if __name__ == "__main__":
    cli.run(main)
