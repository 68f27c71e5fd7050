"""train: <section>.model + <section>.train -> data/train/<run>/{model.pt, run.json}, metrics/train/<run>/ (DVCLive)."""

from fer_pipeline import cli
from fer_pipeline.distributed import relaunch_with_torchrun, under_torchrun
from fer_pipeline.params import ModelParams, ParamsFile, TrainParams
from fer_pipeline.runs import choice_settings, train_run
from fer_pipeline.variants import model_and_train


def parse(argv=None):
    return cli.stage_args(__doc__, variant=True, argv=argv)


def read_params(args, pf: ParamsFile) -> tuple[ModelParams, TrainParams]:
    """The run's model and train params: its section, then --choice's settings, --axis and --set."""
    return model_and_train(pf, args.start, args.axis, choice_settings(args.choice), args.set)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    mp, tp = read_params(args, ParamsFile(args.params))
    if tp.processes > 1 and not under_torchrun():
        relaunch_with_torchrun(tp.processes)  # does not return: this stage restarts under torchrun
    train_run(args.variant, mp, tp, tp.device, tp.threads)


if __name__ == "__main__":
    cli.run(main)
