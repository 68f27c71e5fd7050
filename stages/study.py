"""study: one study variant, every seed of its seeds (variants.seeds_key), trained then evaluated in one process ->
data/train/<variant>/s<seed>/, metrics/train/<variant>/s<seed>/, data/evaluate/<variant>/s<seed>/,
metrics/evaluate/<variant>/s<seed>.json.

One process per variant, not per run: Python's and torch's start-up and DVC's per-stage bookkeeping are paid
once for all its seeds. Each seed's run is exactly what `stages.train` then `stages.evaluate` would produce.
With --carry FACTOR, the run is choice.json's chosen architecture with FACTOR's pick (the carry-over round);
when choose chose nothing to carry for FACTOR, the stage trains nothing and says why in skipped.json.
"""

from fer_pipeline import FerError, cli
from fer_pipeline.analysis.variants import Settings, merge, model_and_train, seeds_key
from fer_pipeline.io import read_json
from fer_pipeline.params import EvaluateParams, ModelParams, ParamsFile, RuntimeParams, StudyParams, TrainParams
from fer_pipeline.training.evaluate import evaluation_params
from fer_pipeline.training.runs import choice_settings
from fer_pipeline.training.study import study_runs


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv, carry=True)


def read_carry(args) -> Settings | None:
    """--carry's settings: the chosen architecture's with the factor's pick; None when there is none to carry."""
    if not args.choice:
        raise FerError(f"--carry {args.carry} needs --choice data/choose/choice.json (the picks to carry over)")
    carry = read_json(args.choice).get("carryover")
    if not carry or args.carry not in carry["factors"]:
        return None
    return merge(carry["settings"], carry["factors"][args.carry]["settings"])


def read_params(args, pf: ParamsFile) -> tuple[tuple[int, ...], list[tuple[ModelParams, TrainParams]], int,
                                               tuple[str, EvaluateParams]]:
    """The variant's seeds (variants.seeds_key), each seed's model/train params (train.seed set from them; no runs
    when --carry has nothing to carry), the torch threads and how to evaluate. Every run trains in one process:
    runtime.processes is for the baseline and the recipe."""
    seeds = pf.field(StudyParams, f"study.{seeds_key(args.variant)}")
    choice = read_carry(args) if args.carry else choice_settings(args.choice)
    runs = [model_and_train(pf, args.start, args.axis, choice or choice_settings(args.choice), [*args.set, f"train.seed={s}"])
            for s in seeds]  # resolved also when there is nothing to carry: the params are checked all the same
    threads = pf.field(RuntimeParams, "runtime.threads")
    return seeds, [] if args.carry and choice is None else runs, threads, evaluation_params(pf)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    seeds, runs, threads, (device, how) = read_params(args, ParamsFile(args.params))
    study_runs(args.variant, seeds, runs, device, threads, how, args.carry)


if __name__ == "__main__":
    cli.run(main)
