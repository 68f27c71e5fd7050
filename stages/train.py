"""train: <section>.model + <section>.train -> data/train/<run>/{model.pt, run.json}, metrics/train/<run>/ (DVCLive)."""

from fer_pipeline import cli
from fer_pipeline.analysis.variants import model_and_train
from fer_pipeline.params import ModelParams, ParamsFile, RuntimeParams, TrainParams, parse_override
from fer_pipeline.training.distributed import relaunch_with_torchrun, under_torchrun
from fer_pipeline.training.runs import choice_settings, train_run


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[ModelParams, TrainParams, RuntimeParams]:
    """What the run trains (its section, then --choice's settings, --axis and --set model.K=V / train.K=V), and
    where it runs (runtime, --set runtime.K=V)."""
    runtime = {k.partition(".")[2]: v for k, v in map(parse_override, args.set) if k.startswith("runtime.")}
    sets = [text for text in args.set if not parse_override(text)[0].startswith("runtime.")]
    return (*model_and_train(pf, args.start, args.axis, choice_settings(args.choice), sets),
            pf.section(RuntimeParams, "runtime", runtime))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    mp, tp, rt = read_params(args, ParamsFile(args.params))
    if rt.processes > 1 and not under_torchrun():
        relaunch_with_torchrun(rt.processes)  # does not return: this stage restarts under torchrun
    train_run(args.variant, mp, tp, rt.device, rt.threads)


if __name__ == "__main__":
    cli.run(main)
