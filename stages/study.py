"""study: one study variant, every seed of study.seeds, trained then evaluated in one process ->
data/train/<variant>/s<seed>/, metrics/train/<variant>/s<seed>/, data/evaluate/<variant>/s<seed>/,
metrics/evaluate/<variant>/s<seed>.json.

One process per variant, not per run: Python's and torch's start-up and DVC's per-stage bookkeeping are paid
once for all its seeds. Each seed's run is exactly what `stages.train` then `stages.evaluate` would produce.
With --carry FACTOR, the run is choice.json's chosen architecture with FACTOR's pick (the carry-over round);
when choose chose nothing to carry for FACTOR, the stage trains nothing and says why in skipped.json.
"""

from pathlib import Path

from fer_pipeline import FerError, cli, paths
from fer_pipeline.io import read_json, write_json
from fer_pipeline.params import EvaluateParams, ModelParams, ParamsFile, RuntimeParams, StudyParams, TrainParams
from fer_pipeline.tensors import load_split_tensors
from fer_pipeline.variants import Settings, merge, model_and_train, run_name, seeds_key
from stages import evaluate, train


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
    choice = read_carry(args) if args.carry else train.read_choice(args)
    runs = [model_and_train(pf, args.start, args.axis, choice or train.read_choice(args), [*args.set, f"train.seed={s}"])
            for s in seeds]  # resolved also when there is nothing to carry: the params are checked all the same
    threads = pf.field(RuntimeParams, "runtime.threads")
    return seeds, [] if args.carry and choice is None else runs, threads, evaluate.read_params(args, pf)


def skip(variant: str, reason: str) -> None:
    """The stage's four output folders with only skipped.json, saying why nothing was trained."""
    for folder in (paths.model_file(variant).parent, paths.live_dir(variant), paths.predictions_file(variant).parent,
                   paths.eval_file(variant).with_suffix("")):
        write_json(Path(folder) / "skipped.json", {"variant": variant, "skipped": reason})


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    seeds, runs, threads, (device, how) = read_params(args, ParamsFile(args.params))
    if not runs:
        reason = (f"choose kept the base's {args.carry} (or chose the base's architecture), so this run would be "
                  "the chosen architecture's own axis run: nothing to carry over")
        skip(args.variant, reason)
        print(f"study {args.variant}: {reason}")
        return
    data = load_split_tensors(("train", "valid", "test"))  # once for every seed: no run changes it
    for seed, (mp, tp) in zip(seeds, runs, strict=True):
        run = run_name(args.variant, seed)
        train.train(run, mp, tp, device, threads, data)
        evaluate.evaluate(run, device, how, data)


if __name__ == "__main__":
    cli.run(main)
